package frontend

import (
	"context"

	"github.com/moby/buildkit/frontend/gateway/client"
	sublint "github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stowage-build/stowage/lint"
	"github.com/stowage-build/stowage/llbgen"
)

// docsURL points each lint rule at its documentation.
const docsURL = "https://github.com/stowage-build/stowage/blob/main/docs/spec.md#lint-rules"

// lint answers --call=lint (and buildx's --call=check): spec errors as the
// build error, cache volume hazards as warnings.
func (b *builder) lint(context.Context) (*sublint.LintResults, error) {
	res := &sublint.LintResults{Warnings: []sublint.Warning{}}
	res.Sources = append(res.Sources, &pb.SourceInfo{
		Filename:   b.src.Filename,
		Language:   b.src.Language,
		Data:       b.src.Data,
		Definition: b.src.Definition.ToPB(),
	})
	s, err := b.load(nil)
	if err != nil {
		return nil, err
	}
	for _, w := range lint.Check(s) {
		res.Warnings = append(res.Warnings, sublint.Warning{
			RuleName:    w.Rule.Name,
			Description: w.Rule.Description,
			URL:         docsURL,
			Detail:      w.Msg,
			Location:    location(w.Range),
		})
	}
	return res, nil
}

// warn reports the lint findings during a build, as the Dockerfile frontend
// reports its checks, without failing it.
func (b *builder) warn(ctx context.Context) {
	s, err := b.load(nil)
	if err != nil {
		return
	}
	for _, w := range lint.Check(s) {
		b.src.Warn(ctx, w.Rule.Name+": "+w.Msg, client.WarnOpts{
			Range:  []*pb.Range{llbgen.PBRange(w.Range)},
			Detail: [][]byte{[]byte(w.Rule.Description)},
			URL:    docsURL,
		})
	}
}
