// Package infra_test holds the Bicep templates and azure.yaml against the Go
// code: the app settings are the names the code reads, the apiVersions are the
// confirmed ones, the modules wire up, and azd ships what `make package` builds.
// No Bicep compiler runs here; see infra/README.md.
package infra_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// platformSettings are app settings the Functions host and the platform read;
// the handler does not. Each must be here for a reason.
var platformSettings = map[string]string{
	// Identity-based host storage (no connection string, shared keys disabled).
	"AzureWebJobsStorage__accountName": "host storage account, reached with a managed identity",
	"AzureWebJobsStorage__credential":  "'managedidentity' selects identity-based host storage",
	"AzureWebJobsStorage__clientId":    "which user-assigned identity the host uses for storage",
	// Application Insights with local auth disabled.
	"APPLICATIONINSIGHTS_CONNECTION_STRING":     "where the host sends telemetry",
	"APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Entra auth for telemetry with the user-assigned identity",
}

// forbiddenSettings must never be set on Flex Consumption or in this template
// (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#deprecated-properties-and-settings).
var forbiddenSettings = map[string]string{
	"FUNCTIONS_WORKER_RUNTIME":                 "deprecated on Flex; the runtime is functionAppConfig.runtime",
	"FUNCTIONS_EXTENSION_VERSION":              "deprecated on Flex",
	"WEBSITE_RUN_FROM_PACKAGE":                 "not used on Flex; the package lives in the deployment container",
	"WEBSITE_CONTENTAZUREFILECONNECTIONSTRING": "not used on Flex",
	"WEBSITE_CONTENTSHARE":                     "not used on Flex",
	"AzureWebJobsStorage":                      "a connection string needs shared keys; use AzureWebJobsStorage__* with the identity",
	"REDIS_PASSWORD":                           "access keys are disabled on Azure Managed Redis; the handler uses Entra",
}

// requiredInAzure are the handler settings the deployed app must set.
var requiredInAzure = []string{
	"REDIS_HOST",       // <hostName>:10000
	"REDIS_CLUSTER",    // oss | none, following the clustering policy
	"REDIS_CREDENTIAL", // managedidentity: the platform's identity endpoint
	"AZURE_CLIENT_ID",  // the user-assigned identity's client ID
}

// literalSettings are handler settings that, when set, must have this value.
var literalSettings = map[string]string{
	"REDIS_AUTH":       "'entra'",
	"REDIS_CREDENTIAL": "'managedidentity'",
}

// confirmedAPIVersions are apiVersions seen in use for each resource type, and where:
// Microsoft.Web/serverfarms (FC1) and Microsoft.Web/sites with functionAppConfig in
// Azure-Samples/azure-functions-flex-consumption-samples IaC/bicep/core/host/function.bicep
// (sites 2023-12-01 also in anthonychu/functions-quickstart-go-azd-service-bus); the Azure
// Managed Redis types in Azure/azure-rest-api-specs
// specification/redisenterprise/resource-manager/Microsoft.Cache/RedisEnterprise (stable
// 2025-07-01 and 2025-04-01, and 2024-09-01-preview) and their examples; the identity, storage,
// Application Insights, role assignment and resource group versions in the same Flex samples and
// the Azure Verified Modules they use.
var confirmedAPIVersions = map[string][]string{
	"Microsoft.Web/serverfarms":                                         {"2024-04-01"},
	"Microsoft.Web/sites":                                               {"2024-04-01", "2023-12-01"},
	"Microsoft.ManagedIdentity/userAssignedIdentities":                  {"2023-01-31"},
	"Microsoft.Cache/redisEnterprise":                                   {"2025-07-01", "2025-04-01", "2024-09-01-preview"},
	"Microsoft.Cache/redisEnterprise/databases":                         {"2025-07-01", "2025-04-01"},
	"Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments": {"2025-07-01", "2025-04-01", "2024-09-01-preview"},
	"Microsoft.Storage/storageAccounts":                                 {"2023-01-01", "2022-09-01"},
	"Microsoft.Insights/components":                                     {"2020-02-02"},
	"Microsoft.Authorization/roleAssignments":                           {"2022-04-01"},
	"Microsoft.Resources/resourceGroups":                                {"2021-04-01", "2022-09-01"},
}

// extraAPIVersions are further confirmed apiVersions, each with where it was
// confirmed.
var extraAPIVersions = map[string][]string{
	// Log Analytics (Application Insights must be workspace-based). 2022-10-01 is
	// the stable version used across public Bicep samples (e.g. the Azure Container
	// Apps and Sentinel quickstarts); Azure-Samples/azure-functions-flex-consumption-samples
	// IaC/bicep/core/monitor/loganalytics.bicep uses the newer 2025-02-01.
	"Microsoft.OperationalInsights/workspaces": {"2022-10-01"},
}

// repoRoot is the module root, one level above infra/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(mod), "module github.com/funcredis/funcredis") {
		t.Fatalf("infra tests must run from infra/ inside the funcredis module (go.mod: %v)", err)
	}
	return root
}

// bicep reads infra/**/*.bicep and fails the test on anything the reader did
// not understand.
func bicep(t *testing.T) []*bicepFile {
	t.Helper()
	files, err := readBicepFiles(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no .bicep files under infra/")
	}
	for _, f := range files {
		for _, p := range f.Problems {
			t.Error(p)
		}
	}
	return files
}

// codeSettings returns the settings the Go code reads, by name.
func codeSettings(t *testing.T) map[string]envSetting {
	t.Helper()
	settings, problems, err := readEnvconfig(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if len(settings) == 0 {
		t.Fatal("no envconfig:\"NAME\" struct tags in the repo's non-test Go files: the handler's settings " +
			"(pool/config.go, serve/) are missing or untagged, so there is nothing to hold infra/ against")
	}
	byName := map[string]envSetting{}
	for _, s := range settings {
		if prev, dup := byName[s.Name]; dup {
			// Two structs reading one variable is fine; keep the stricter one.
			s.Required = s.Required || prev.Required
		}
		byName[s.Name] = s
	}
	return byName
}

func TestAppSettingsMatchCode(t *testing.T) {
	code := codeSettings(t)
	set := map[string]appSetting{}
	for _, f := range bicep(t) {
		for _, s := range f.Settings {
			if prev, dup := set[s.Name]; dup {
				t.Errorf("%s: %s is already set at %s", s.Pos, s.Name, prev.Pos)
			}
			set[s.Name] = s
		}
	}
	if len(set) == 0 {
		t.Fatal("no app settings found in infra/**/*.bicep")
	}

	for _, name := range sortedKeys(set) {
		s := set[name]
		_, read := code[name]
		_, platform := platformSettings[name]
		switch reason, forbidden := forbiddenSettings[name]; {
		case forbidden:
			t.Errorf("%s: %s must not be set: %s", s.Pos, name, reason)
		case read && platform:
			t.Errorf("%s: %s is read by the code (%s) and on the platform allow-list; drop it from the list", s.Pos, name, code[name].Pos)
		case !read && !platform:
			t.Errorf("%s: %s is set but no Go code reads it (no envconfig tag) and it is not a platform setting", s.Pos, name)
		}
		if want, ok := literalSettings[name]; ok && s.Value != want {
			t.Errorf("%s: %s = %s, want %s", s.Pos, name, s.Value, want)
		}
	}

	for _, name := range requiredInAzure {
		if _, read := code[name]; !read {
			t.Errorf("%s is required in Azure but no Go code reads it: the code renamed it, or requiredInAzure is stale", name)
		}
		if _, ok := set[name]; !ok {
			t.Errorf("%s is required in Azure but the Bicep does not set it", name)
		}
	}
	for _, name := range sortedKeys(code) {
		if s := code[name]; s.Required {
			if _, ok := set[name]; !ok {
				t.Errorf("%s: %s is required:\"true\" but the Bicep does not set it", s.Pos, name)
			}
		}
	}

	// pool.Config refuses more than one managed-identity selector.
	selectors := 0
	for _, name := range []string{"AZURE_CLIENT_ID", "REDIS_IDENTITY_RESOURCE_ID", "REDIS_IDENTITY_OBJECT_ID"} {
		if _, ok := set[name]; ok {
			selectors++
		}
	}
	if selectors != 1 {
		t.Errorf("%d managed-identity selectors are set; set only AZURE_CLIENT_ID", selectors)
	}
	// The handler and the host must use the same identity.
	if a, b := set["AZURE_CLIENT_ID"], set["AzureWebJobsStorage__clientId"]; a.Value != b.Value {
		t.Errorf("AZURE_CLIENT_ID (%s) and AzureWebJobsStorage__clientId (%s) name different identities", a.Value, b.Value)
	}
}

func TestAPIVersionsConfirmed(t *testing.T) {
	amr := map[string]bool{}
	for _, f := range bicep(t) {
		for _, r := range f.Resources {
			if r.APIVersion == "" {
				if strings.Contains(r.Type, "/") {
					t.Errorf("%s: resource %s '%s' has no apiVersion", r.Pos, r.Symbol, r.Type)
				}
				continue // a nested child inherits its parent's apiVersion
			}
			allowed, ok := confirmedAPIVersions[r.Type]
			if !ok {
				allowed, ok = extraAPIVersions[r.Type]
			}
			switch {
			case !ok:
				t.Errorf("%s: %s is not in the confirmed apiVersions table (confirmedAPIVersions in this test); confirm one and add it with its source", r.Pos, r.Type)
			case !slices.Contains(allowed, r.APIVersion):
				t.Errorf("%s: %s@%s is not a confirmed apiVersion; confirmed: %s", r.Pos, r.Type, r.APIVersion, strings.Join(allowed, ", "))
			}
			if strings.HasPrefix(r.Type, "Microsoft.Cache/redisEnterprise") {
				amr[r.APIVersion] = true
			}
		}
	}
	if len(amr) != 1 {
		t.Errorf("Azure Managed Redis resources use %d apiVersions %v; use one for the cache, its database and access policies", len(amr), sortedKeys(amr))
	}
}

func TestModulesWireUp(t *testing.T) {
	files := bicep(t)
	byPath := map[string]*bicepFile{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	main, ok := byPath["main.bicep"]
	if !ok {
		t.Fatal("infra/main.bicep is missing")
	}
	for _, f := range files {
		outputsOf := map[string]*bicepFile{}
		for _, m := range f.Modules {
			target := byPath[filepath.ToSlash(filepath.Join(filepath.Dir(f.Path), m.Path))]
			if target == nil {
				t.Errorf("%s: module %s: %s is not a file under infra/", m.Pos, m.Symbol, m.Path)
				continue
			}
			outputsOf[m.Symbol] = target
			for _, p := range m.Params {
				if _, declared := target.Params[p]; !declared {
					t.Errorf("%s: module %s passes %s, which %s does not declare", m.Pos, m.Symbol, p, target.Path)
				}
			}
			for _, p := range sortedKeys(target.Params) {
				if !target.Params[p] && !slices.Contains(m.Params, p) {
					t.Errorf("%s: module %s does not pass %s, which %s requires", m.Pos, m.Symbol, p, target.Path)
				}
			}
		}
		ref := regexp.MustCompile(`\b([A-Za-z_]\w*)\.outputs\.([A-Za-z_]\w*)`)
		for i, line := range f.Lines {
			for _, m := range ref.FindAllStringSubmatch(line, -1) {
				target := outputsOf[m[1]]
				if target == nil {
					t.Errorf("infra/%s:%d: %s is not a module of this file", f.Path, i+1, m[1])
				} else if !target.Outputs[m[2]] {
					t.Errorf("infra/%s:%d: %s has no output %s", f.Path, i+1, target.Path, m[2])
				}
			}
		}
	}

	if !slices.Contains(main.Lines, "targetScope = 'subscription'") {
		t.Error("main.bicep must deploy at subscription scope (azd convention)")
	}
	for _, p := range []string{"environmentName", "location", "principalId"} {
		if _, ok := main.Params[p]; !ok {
			t.Errorf("main.bicep lacks the azd parameter %s", p)
		}
	}

	var params struct {
		Parameters map[string]struct {
			Value any `json:"value"`
		} `json:"parameters"`
	}
	readJSON(t, "main.parameters.json", &params)
	for name := range params.Parameters {
		if _, ok := main.Params[name]; !ok {
			t.Errorf("main.parameters.json sets %s, which main.bicep does not declare", name)
		}
	}
	for _, name := range sortedKeys(main.Params) {
		if _, ok := params.Parameters[name]; !ok && !main.Params[name] {
			t.Errorf("main.bicep requires %s but main.parameters.json does not supply it", name)
		}
	}
	for name, want := range map[string]string{"environmentName": "${AZURE_ENV_NAME}", "location": "${AZURE_LOCATION}", "principalId": "${AZURE_PRINCIPAL_ID}"} {
		if got := params.Parameters[name].Value; got != want {
			t.Errorf("main.parameters.json: %s = %v, want %s", name, got, want)
		}
	}

	var abbrs map[string]string
	readJSON(t, "abbreviations.json", &abbrs)
	if abbrs["cacheRedisEnterprise"] == "" {
		t.Error("abbreviations.json needs the local key cacheRedisEnterprise (azd's list has none for Azure Managed Redis)")
	}
	use := regexp.MustCompile(`\babbrs\.([A-Za-z_]\w*)`)
	for i, line := range main.Lines {
		for _, m := range use.FindAllStringSubmatch(line, -1) {
			if _, ok := abbrs[m[1]]; !ok {
				t.Errorf("infra/main.bicep:%d: abbreviations.json has no key %s", i+1, m[1])
			}
		}
	}
}

// TestRedisAndAppShape pins, as text, the properties a compiler could not check
// for us and the deployment depends on.
func TestRedisAndAppShape(t *testing.T) {
	byPath := map[string]*bicepFile{}
	for _, f := range bicep(t) {
		byPath[f.Path] = f
	}
	for _, c := range []struct{ file, line, why string }{
		{"app/redis.bicep", "var port = 10000", "Azure Managed Redis listens on 10000"},
		{"app/redis.bicep", "port: port", "the database uses that port"},
		{"app/redis.bicep", "output hostPort string = '${cache.properties.hostName}:${port}'", "REDIS_HOST is <hostName>:10000"},
		{"app/redis.bicep", "clientProtocol: 'Encrypted'", "TLS only (Entra auth requires TLS)"},
		{"app/redis.bicep", "accessKeysAuthentication: 'Disabled'", "Entra only"},
		{"app/redis.bicep", "minimumTlsVersion: '1.2'", "TLS 1.2+"},
		{"app/redis.bicep", "accessPolicyName: 'default'", "the only AMR access policy"},
		{"app/redis.bicep", "user: { objectId: appPrincipalId }", "the app's identity may connect"},
		{"app/redis.bicep", "clusteringPolicy: clusteringPolicy", "the policy is a parameter"},
		{"main.bicep", "var redisClusterSetting = redisClusteringPolicy == 'OSSCluster' ? 'oss' : 'none'", "REDIS_CLUSTER follows the policy"},
		{"main.bicep", "redisCluster: redisClusterSetting", "the app gets that setting"},
		{"main.bicep", "clusteringPolicy: redisClusteringPolicy", "the database gets the same policy"},
		{"main.bicep", "redisHost: redis.outputs.hostPort", "the app gets the database's host:port"},
		{"main.bicep", "appPrincipalId: identity.outputs.principalId", "the access policy names the app's identity"},
		{"main.bicep", "identityClientId: identity.outputs.clientId", "the app selects that identity"},
		{"main.bicep", "serviceName: 'api'", "azd finds the app by its azure.yaml service name"},
		{"app/function.bicep", "tags: union(tags, { 'azd-service-name': serviceName })", "the app, and only the app, carries azd-service-name"},
		{"app/function.bicep", "runtime: { name: 'custom', version: '1.0' }", "a custom handler on Flex"},
		{"app/function.bicep", "sku: { tier: 'FlexConsumption', name: 'FC1' }", "Flex Consumption"},
		{"app/function.bicep", "type: 'UserAssigned'", "the app runs as the user-assigned identity"},
		{"app/function.bicep", "authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }", "deployment container via the identity"},
		{"app/function.bicep", "{ name: 'REDIS_HOST', value: redisHost }", "REDIS_HOST comes from the database"},
		{"app/function.bicep", "{ name: 'REDIS_CLUSTER', value: redisCluster }", "REDIS_CLUSTER comes from the policy"},
		{"app/function.bicep", "{ name: 'AZURE_CLIENT_ID', value: identityClientId }", "azidentity selects the user-assigned identity"},
		{"app/storage.bicep", "allowSharedKeyAccess: false", "identity-based storage only"},
	} {
		f := byPath[c.file]
		if f == nil {
			t.Errorf("infra/%s is missing", c.file)
			continue
		}
		if !slices.ContainsFunc(f.Lines, func(l string) bool { return strings.TrimSpace(l) == c.line }) {
			t.Errorf("infra/%s lacks the line %q (%s)", c.file, c.line, c.why)
		}
	}
	tagged := 0
	for _, f := range byPath {
		for _, l := range f.Lines {
			if l = strings.TrimSpace(l); !strings.HasPrefix(l, "//") && strings.Contains(l, "'azd-service-name'") {
				tagged++
			}
		}
	}
	if tagged != 1 {
		t.Errorf("azd-service-name is set in %d places; azd needs exactly one resource (the app) per service", tagged)
	}
	main := byPath["main.bicep"]
	for _, policy := range []string{"'EnterpriseCluster'", "'OSSCluster'", "'NoCluster'"} {
		if main != nil && !slices.ContainsFunc(main.Lines, func(l string) bool { return strings.TrimSpace(l) == policy }) {
			t.Errorf("main.bicep: redisClusteringPolicy does not allow %s", policy)
		}
	}
}

func TestAzureYAML(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "azure.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := readYAMLPaths(string(src))
	if err != nil {
		t.Fatalf("azure.yaml: %v", err)
	}
	var services []string
	for k, v := range y {
		if parts := strings.Split(k, "."); len(parts) == 3 && parts[0] == "services" && parts[2] == "host" && v == "function" {
			services = append(services, parts[1])
		}
	}
	if len(services) != 1 {
		t.Fatalf("azure.yaml: want one service with host: function, got %v", services)
	}
	svc := "services." + services[0]
	if services[0] != "api" {
		t.Errorf("azure.yaml: the function service is %q; main.bicep passes serviceName 'api'", services[0])
	}
	for key, want := range map[string]string{
		svc + ".language": "custom", // not go: azd's go targets the native worker and ships no function folders
		svc + ".dist":     "dist",   // what `make package` stages
		svc + ".project":  ".",
	} {
		if got := y[key]; got != want {
			t.Errorf("azure.yaml: %s = %q, want %q", key, got, want)
		}
	}
	var runs []string
	for _, prefix := range []string{svc + ".hooks.prepackage", "hooks.prepackage"} {
		for _, key := range []string{prefix + ".run", prefix + ".posix.run"} {
			if v, ok := y[key]; ok {
				runs = append(runs, v)
			}
		}
	}
	if !slices.Contains(runs, "make package") {
		t.Errorf("azure.yaml: no prepackage hook runs `make package` (found %v)", runs)
	}
	// language: custom appeared in azd 1.20.0 (https://github.com/Azure/azure-dev/pull/5771, azd
	// CHANGELOG 1.20.0); requiredVersions makes an older azd stop with a clear message.
	if got := y["requiredVersions.azd"]; got != ">= 1.20.0" {
		t.Errorf("azure.yaml: requiredVersions.azd = %q, want \">= 1.20.0\" (the first azd with language: custom)", got)
	}
}

func TestHostJSONExecutable(t *testing.T) {
	path := filepath.Join(repoRoot(t), "host.json")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		t.Skip("host.json does not exist yet")
	}
	var host struct {
		CustomHandler struct {
			Description struct {
				DefaultExecutablePath string `json:"defaultExecutablePath"`
			} `json:"description"`
		} `json:"customHandler"`
	}
	readJSON(t, path, &host)
	if got := host.CustomHandler.Description.DefaultExecutablePath; got != "bin/handler" {
		t.Errorf("host.json: customHandler.description.defaultExecutablePath = %q, want bin/handler (what `make package` puts in dist/)", got)
	}
}

// TestRedisConnectionBudget checks the connection arithmetic of main.bicep. Every instance holds
// up to REDIS_POOL_SIZE connections, Flex runs up to maximumInstanceCount instances, and Azure
// Managed Redis accepts a per-SKU maximum of clients, published only on its pricing page
// (https://learn.microsoft.com/azure/redis/configure#maximum-number-of-clients), so redisMaxClients
// is a required parameter. The Bicep lowers the instance cap to fit 80 % of it; this test pins
// that wiring and evaluates it for the default parameters over the range of limits that deploy.
func TestRedisConnectionBudget(t *testing.T) {
	byPath := map[string]*bicepFile{}
	for _, f := range bicep(t) {
		byPath[f.Path] = f
	}
	main, fn := byPath["main.bicep"], byPath["app/function.bicep"]
	if main == nil || fn == nil {
		t.Fatal("main.bicep or app/function.bicep is missing")
	}
	for _, c := range []struct {
		f         *bicepFile
		line, why string
	}{
		{main, "var redisConnectionBudget = redisMaxClients * 8 / 10", "80 % of the SKU's clients for the app"},
		{main, "var maximumInstances = min(maximumInstanceCount, redisConnectionBudget / redisPoolSize)", "the instance cap fits the budget"},
		{main, "maximumInstanceCount: maximumInstances", "the app gets the fitted cap"},
		{main, "redisPoolSize: redisPoolSize", "the app gets the pool size the budget assumed"},
		{fn, "scaleAndConcurrency: { maximumInstanceCount: maximumInstanceCount, instanceMemoryMB: instanceMemoryMB }", "Flex scales to that cap"},
		{fn, "{ name: 'REDIS_POOL_SIZE', value: string(redisPoolSize) }", "the handler's pool is that size (its own default depends on the CPU count)"},
	} {
		if !slices.ContainsFunc(c.f.Lines, func(l string) bool { return strings.TrimSpace(l) == c.line }) {
			t.Errorf("infra/%s lacks the line %q (%s)", c.f.Path, c.line, c.why)
		}
	}
	if _, ok := main.Params["redisMaxClients"]; !ok || main.Params["redisMaxClients"] {
		t.Error("main.bicep: redisMaxClients must be a required parameter (no default: the limit depends on the SKU)")
	}
	var params struct {
		Parameters map[string]struct {
			Value any `json:"value"`
		} `json:"parameters"`
	}
	readJSON(t, "main.parameters.json", &params)
	if got := params.Parameters["redisMaxClients"].Value; got != "${AZURE_REDIS_MAX_CLIENTS}" {
		t.Errorf("main.parameters.json: redisMaxClients = %v, want ${AZURE_REDIS_MAX_CLIENTS} without a default", got)
	}

	atoi := func(name string) int {
		t.Helper()
		n, err := strconv.Atoi(main.Defaults[name])
		if err != nil {
			t.Fatalf("main.bicep: %s has no integer default (%q)", name, main.Defaults[name])
		}
		return n
	}
	instances, pool := atoi("maximumInstanceCount"), atoi("redisPoolSize")
	const flexMinimum = 40 // Flex's lowest maximumInstanceCount (@minValue in app/function.bicep)
	fits := func(maxClients int) int { return min(instances, maxClients*8/10/pool) }
	smallest := (flexMinimum*pool*10 + 7) / 8 // the smallest maxclients that still allows 40 instances
	for maxClients := smallest; maxClients <= 200_000; maxClients += 1 + maxClients/50 {
		n := fits(maxClients)
		if n < flexMinimum {
			t.Fatalf("maxclients %d: the cap %d is below Flex's minimum although the budget allows it", maxClients, n)
		}
		if n*pool > maxClients*8/10 {
			t.Fatalf("maxclients %d: %d instances × %d connections exceed 80 %%", maxClients, n, pool)
		}
	}
	t.Logf("defaults: up to %d instances × REDIS_POOL_SIZE %d = %d connections, unclamped from maxclients %d; deploys from maxclients %d",
		instances, pool, instances*pool, (instances*pool*10+7)/8, smallest)
}

// TestHostJSONTelemetry holds host.json's logging to what makes successful requests visible in
// Application Insights at a bounded cost. The requests table is fed by the Host.Results category,
// which logs successes at Information
// (https://learn.microsoft.com/azure/azure-functions/configure-monitoring#configure-categories):
// at Warning or Error only failures reach it. Adaptive sampling bounds what each instance sends to
// maxTelemetryItemsPerSecond (default 20); a type in excludedTypes is never sampled, so excluding
// Request would make the volume grow with the traffic
// (https://learn.microsoft.com/azure/azure-functions/functions-host-json#applicationinsightssamplingsettings).
func TestHostJSONTelemetry(t *testing.T) {
	var host struct {
		Logging struct {
			LogLevel            map[string]string `json:"logLevel"`
			ApplicationInsights struct {
				SamplingSettings *struct {
					IsEnabled                  *bool   `json:"isEnabled"`
					MaxTelemetryItemsPerSecond float64 `json:"maxTelemetryItemsPerSecond"`
					ExcludedTypes              string  `json:"excludedTypes"`
				} `json:"samplingSettings"`
			} `json:"applicationInsights"`
		} `json:"logging"`
	}
	readJSON(t, filepath.Join(repoRoot(t), "host.json"), &host)
	// The level that applies to a category is the one of its longest configured prefix.
	level := func(category string) string {
		best, lvl := -1, host.Logging.LogLevel["default"]
		for k, v := range host.Logging.LogLevel {
			if (category == k || strings.HasPrefix(category, k+".")) && len(k) > best {
				best, lvl = len(k), v
			}
		}
		return lvl
	}
	verbose := map[string]bool{"Trace": true, "Debug": true, "Information": true}
	for category, why := range map[string]string{
		"Host.Results":          "successful executions go to the requests table",
		"Host.Function.Console": "the handler's log lines (stdout) go to traces",
		"Function.cache.User":   "payload-mode invocation Logs go to traces",
	} {
		if !verbose[level(category)] {
			t.Errorf("host.json: %s logs at %q, so nothing at Information reaches Application Insights, but %s", category, level(category), why)
		}
	}
	ss := host.Logging.ApplicationInsights.SamplingSettings
	switch {
	case ss == nil || (ss.IsEnabled != nil && !*ss.IsEnabled):
		t.Error("host.json: Application Insights sampling must stay enabled: it is what bounds the telemetry cost")
	case ss.MaxTelemetryItemsPerSecond <= 0 || ss.MaxTelemetryItemsPerSecond > 20:
		t.Errorf("host.json: maxTelemetryItemsPerSecond = %v; set it (at most the default 20) so the per-instance rate is bounded", ss.MaxTelemetryItemsPerSecond)
	case strings.Contains(strings.ToLower(ss.ExcludedTypes), "request") || strings.Contains(strings.ToLower(ss.ExcludedTypes), "trace"):
		t.Errorf("host.json: excludedTypes %q exempts high-volume telemetry from sampling; its volume would follow the traffic", ss.ExcludedTypes)
	}
}

// readJSON decodes a JSON file or fails the test.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// sortedKeys returns a map's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
