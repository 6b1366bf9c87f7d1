package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// registry is the stack's plain-HTTP registry.
type registry struct{ addr string }

// split cuts "ADDR/REPO:TAG" into its repository and tag.
func (r registry) split(ref string) (repo, tag string) {
	rest := strings.TrimPrefix(ref, r.addr+"/")
	i := strings.LastIndex(rest, ":")
	return rest[:i], rest[i+1:]
}

// pushBlob uploads dt to repo's blobs (monolithic upload) and returns its
// descriptor.
func (r registry) pushBlob(repo, mediaType string, dt []byte) (ocispecs.Descriptor, error) {
	d := ocispecs.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(dt), Size: int64(len(dt))}
	resp, err := http.Post("http://"+r.addr+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil {
		return d, err
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || loc == "" {
		return d, fmt.Errorf("starting an upload to %s: %s", repo, resp.Status)
	}
	if !strings.HasPrefix(loc, "http") {
		loc = "http://" + r.addr + loc
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	req, _ := http.NewRequest(http.MethodPut, loc+sep+"digest="+d.Digest.String(), bytes.NewReader(dt))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return d, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return d, fmt.Errorf("uploading a blob to %s: %s", repo, resp.Status)
	}
	return d, nil
}

var labelLine = regexp.MustCompile(`^LABEL ([^=]+)="(.*)"$`)

// pushFrontend pushes, as BuildKit makes a frontend image, an image of bin
// alone as /bin/NAME (its entrypoint) on scratch, with the LABEL lines of
// the Dockerfile labels; nonce, appended to the binary, makes a layer the
// builder has never seen.
func (r registry) pushFrontend(ref, bin, labels, nonce string) error {
	repo, tag := r.split(ref)
	body, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	body = append(body, nonce...)
	name := filepath.Base(bin)
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, h := range []*tar.Header{
		{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)},
		{Name: "bin/" + name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body)), ModTime: time.Unix(0, 0)},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
	}
	if _, err := tw.Write(body); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	diffID := digest.FromBytes(layer.Bytes())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := io.Copy(zw, &layer); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	lbls := map[string]string{}
	f, err := os.Open(labels)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := labelLine.FindStringSubmatch(sc.Text()); m != nil {
			lbls[m[1]] = m[2]
		}
	}
	f.Close()
	if len(lbls) == 0 {
		return fmt.Errorf("no LABEL lines in %s", labels)
	}
	config, err := json.Marshal(ocispecs.Image{
		Platform: ocispecs.Platform{Architecture: runtime.GOARCH, OS: "linux"},
		Config: ocispecs.ImageConfig{
			Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Entrypoint: []string{"/bin/" + name},
			WorkingDir: "/",
			Labels:     lbls,
		},
		RootFS: ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
	})
	if err != nil {
		return err
	}
	ld, err := r.pushBlob(repo, ocispecs.MediaTypeImageLayerGzip, gz.Bytes())
	if err != nil {
		return err
	}
	cd, err := r.pushBlob(repo, ocispecs.MediaTypeImageConfig, config)
	if err != nil {
		return err
	}
	manifest, err := json.Marshal(ocispecs.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispecs.MediaTypeImageManifest,
		Config:    cd,
		Layers:    []ocispecs.Descriptor{ld},
	})
	if err != nil {
		return err
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+r.addr+"/v2/"+repo+"/manifests/"+tag, bytes.NewReader(manifest))
	req.Header.Set("Content-Type", ocispecs.MediaTypeImageManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("pushing the manifest of %s: %s", ref, resp.Status)
	}
	return nil
}

// imageBytes is an image's size in the registry: its config and layers.
func (r registry) imageBytes(ref string) (int64, error) {
	repo, tag := r.split(ref)
	req, _ := http.NewRequest(http.MethodGet, "http://"+r.addr+"/v2/"+repo+"/manifests/"+tag, nil)
	req.Header.Set("Accept", ocispecs.MediaTypeImageManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var m ocispecs.Manifest
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return 0, err
	}
	n := m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}
