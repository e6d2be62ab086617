// Command handler is the app's Azure Functions custom handler: serve.Main with the functions that
// register (functions.go) gives their handlers. `make build` builds it into bin/handler.
package main

import "github.com/funcredis/funcredis/serve"

func main() { serve.Main(register) }
