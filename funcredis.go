// Package funcredis is the root of the module. Programs import the packages under it (pool,
// handler, serve, …; README, "Public API" lists the stable ones), not this one, which is not part
// of that API: it holds the files of the repository that a new app or function is made from, for
// cmd/funcredis: go.mod, host.json, azure.yaml, infra/, local.settings.sample.json,
// cmd/handler's main.go and test, the cache functions' function.json and the templates under
// template/.
package funcredis

import (
	"embed"
	"io/fs"
)

//go:embed go.mod host.json azure.yaml local.settings.sample.json
//go:embed cmd/handler/main.go cmd/handler/functions_test.go
//go:embed infra/main.bicep infra/main.parameters.json infra/abbreviations.json infra/app
//go:embed cache/function.json cache-batch/function.json cache-incr/function.json
//go:embed template/http template/timer template/app
var files embed.FS

// Files returns the files cmd/funcredis makes apps and functions from, at their paths in the
// repository. They are this version's files, not an API: they change with every version.
func Files() fs.FS { return files }
