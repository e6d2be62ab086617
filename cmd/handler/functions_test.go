package main

import (
	"testing"

	"github.com/funcredis/funcredis/serve"
)

// TestRegistryMatchesFolders checks register against the app's root as serve.Main does at
// start, so a function folder without a handler (or the reverse) fails here.
func TestRegistryMatchesFolders(t *testing.T) {
	if err := serve.Check("../..", register); err != nil {
		t.Fatal(err)
	}
}
