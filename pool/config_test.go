package pool

import (
	"context"
	"runtime"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadConfigDefaults(t *testing.T) {
	t.Setenv("REDIS_HOST", "cache.westeurope.redis.azure.net:10000")
	c, err := LoadConfig()
	require.NoError(t, err)
	assert.Equal(t, AuthEntra, c.Auth)
	assert.True(t, c.TLS)
	assert.Equal(t, ClusterAuto, c.Cluster)
	assert.Equal(t, CredentialManagedIdentity, c.CredentialKind)
	d := c.withDefaults()
	assert.Equal(t, DefaultScope, d.Scope)
	assert.Equal(t, 0.75, d.RefreshRatio)
}

// Invalid settings are refused with the setting's name and what is allowed.
func TestConfigValidateNamesTheSetting(t *testing.T) {
	ok := Config{Addr: "h.redis.azure.net:10000", TLS: true}
	cases := []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"missing host", func(c *Config) { c.Addr = "" }, []string{"REDIS_HOST is required"}},
		{"host without port", func(c *Config) { c.Addr = "h.redis.azure.net" }, []string{"REDIS_HOST", "host:port"}},
		{"auth", func(c *Config) { c.Auth = "key" }, []string{"REDIS_AUTH", "entra, password, none"}},
		{"cluster", func(c *Config) { c.Cluster = "yes" }, []string{"REDIS_CLUSTER", "auto, oss, none"}},
		{"credential", func(c *Config) { c.CredentialKind = "msi" }, []string{"REDIS_CREDENTIAL", "managedidentity"}},
		{"password mode without password", func(c *Config) { c.Auth = AuthPassword }, []string{"REDIS_PASSWORD is required"}},
		{"two identity selectors", func(c *Config) { c.ClientID, c.IdentityObjectID = "a", "b" }, []string{"AZURE_CLIENT_ID", "REDIS_IDENTITY_OBJECT_ID"}},
		{"ratio", func(c *Config) { c.RefreshRatio = 1.5 }, []string{"REDIS_TOKEN_REFRESH_RATIO", "between 0 and 1"}},
		{"pool size", func(c *Config) { c.PoolSize = -1 }, []string{"REDIS_POOL_SIZE"}},
		{"min idle over size", func(c *Config) { c.PoolSize, c.MinIdleConns = 2, 5 }, []string{"REDIS_MIN_IDLE_CONNS", "REDIS_POOL_SIZE"}},
		{"negative timeout", func(c *Config) { c.ReadTimeout = -1 }, []string{"REDIS_READ_TIMEOUT"}},
		{"plaintext to a remote host", func(c *Config) { c.TLS = false }, []string{"REDIS_TLS=false", "REDIS_ALLOW_PLAINTEXT"}},
	}
	require.NoError(t, ok.Validate())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.mutate(&cfg)
			err := cfg.Validate()
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	loop := Config{Addr: "127.0.0.1:6379"}
	assert.NoError(t, loop.Validate(), "plaintext to loopback is fine")
	remote := Config{Addr: "10.0.0.5:6379", AllowPlaintext: true}
	assert.NoError(t, remote.Validate(), "plaintext allowed explicitly")
}

// Every credential kind builds one long-lived credential.
func TestCredentialKinds(t *testing.T) {
	t.Setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001")
	t.Setenv("AZURE_CLIENT_SECRET", "not-a-real-secret")
	t.Setenv("AZURE_FEDERATED_TOKEN_FILE", t.TempDir()+"/token")
	for _, c := range []Config{
		{CredentialKind: CredentialManagedIdentity},
		{CredentialKind: CredentialManagedIdentity, ClientID: "11111111-1111-1111-1111-111111111111"},
		{CredentialKind: CredentialManagedIdentity, IdentityResourceID: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"},
		{CredentialKind: CredentialManagedIdentity, IdentityObjectID: "22222222-2222-2222-2222-222222222222"},
		{CredentialKind: CredentialWorkloadIdentity, ClientID: "11111111-1111-1111-1111-111111111111"},
		{CredentialKind: CredentialClientSecret, ClientID: "11111111-1111-1111-1111-111111111111"},
		{CredentialKind: CredentialAzureCLI},
		{CredentialKind: CredentialDefault},
	} {
		cred, err := newCredential(c)
		require.NoError(t, err, "%+v", c)
		assert.NotNil(t, cred)
	}
	_, err := newCredential(Config{CredentialKind: CredentialClientCertificate})
	assert.ErrorIs(t, err, ErrIdentityNotFound, "a missing certificate is a configuration error")
	assert.NotContains(t, err.Error(), "not-a-real-secret")
}

// Without REDIS_POOL_SIZE a plain client may hold what a default go-redis client holds, its pool
// and its pipeline pool together; REDIS_POOL_SIZE is the bound when set.
func TestPoolSizeDefault(t *testing.T) {
	for _, tc := range []struct{ set, want int }{{0, 10*runtime.GOMAXPROCS(0) + redis.DefaultPipelinePoolSize}, {7, 7}} {
		p, err := New(context.Background(), Config{Addr: "127.0.0.1:1", Auth: AuthNone, Cluster: ClusterNone, PoolSize: tc.set}, Options{})
		require.NoError(t, err)
		c, ok := p.Client().(*redis.Client)
		require.True(t, ok)
		assert.Equal(t, tc.want, c.Options().PoolSize, "REDIS_POOL_SIZE=%d", tc.set)
		assert.Equal(t, -1, c.Options().PipelinePoolSize, "pipelines use the one pool")
		require.NoError(t, p.Close())
	}
}
