package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// sampleSettings are the Values of local.settings.sample.json in root, as
// "KEY=value" lines sorted by key; none when the file is missing.
func sampleSettings(root string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(root, "local.settings.sample.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read local settings: %w", err)
	}
	var f struct {
		Values map[string]any `json:"Values"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse local.settings.sample.json: %w", err)
	}
	keys := make([]string, 0, len(f.Values))
	for k := range f.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env := make([]string, 0, len(keys))
	for _, k := range keys {
		switch v := f.Values[k].(type) {
		case string:
			env = append(env, k+"="+v)
		case nil:
		default:
			env = append(env, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return env, nil
}
