module github.com/grafana/alloy

go 1.22
