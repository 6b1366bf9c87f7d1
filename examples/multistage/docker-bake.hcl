# docker buildx bake, from this directory, builds the image through Stowage:
# bake hands stowage.yaml to BuildKit as it would a Dockerfile, and the
# spec's `# syntax=` line picks the frontend.
variable "GREETING" {
  default = "hello"
}

target "default" {
  context    = "."
  dockerfile = "stowage.yaml"
  target     = "image"
  args = {
    GREETING = GREETING
  }
  platforms = ["linux/amd64"]
}
