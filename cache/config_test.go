package cache

import (
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	got, err := LoadConfig()
	if err != nil || got != DefaultConfig() {
		t.Errorf("LoadConfig() with nothing set = %+v, %v; want DefaultConfig()", got, err)
	}
	for name, value := range map[string]string{"CACHE_MAX_TTL": "soon", "CACHE_KEY_PREFIX": "{c}:"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			if _, err := LoadConfig(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("LoadConfig() with %s=%q: %v, want an error naming it", name, value, err)
			}
		})
	}
}
