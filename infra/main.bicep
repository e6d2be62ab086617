// funcredis on Azure: a Flex Consumption function app (custom handler, Go) with a
// user-assigned managed identity that signs in to Azure Managed Redis with Microsoft
// Entra ID. Access keys are disabled on the cache; the identity's object ID is the
// Redis user name (the handler reads it from the token's oid claim).
//
// No Bicep compiler ran when this was written: infra/infra_test.go holds these files
// against the Go code (app setting names, apiVersions, module parameters and outputs).

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the resource token and names the resource group.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer both Flex Consumption and Azure Managed Redis.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Object ID of the user running azd (AZURE_PRINCIPAL_ID). Used only when redisDeveloperAccess is true.')
param principalId string = ''

@description('Azure Managed Redis clustering policy. It cannot be changed later (except from NoCluster); REDIS_CLUSTER follows it.')
@allowed([
  'EnterpriseCluster'
  'OSSCluster'
  'NoCluster'
])
param redisClusteringPolicy string = 'EnterpriseCluster'

@description('Azure Managed Redis SKU, e.g. Balanced_B0 (smallest), Balanced_B5, MemoryOptimized_M10.')
param redisSku string = 'Balanced_B0'

@description('Azure Managed Redis replication. Disabled halves the cost and is for development only.')
@allowed([
  'Enabled'
  'Disabled'
])
param redisHighAvailability string = 'Enabled'

@description('Also give the deploying user (principalId) a Redis access policy, to run the handler locally against Azure.')
param redisDeveloperAccess bool = false

@description('Client connections the Redis SKU accepts (maxclients). Azure publishes it per SKU only on the pricing page, https://aka.ms/amrpricing, so it is required. With OSSCluster give the limit divided by the number of shards: the handler keeps a pool per shard.')
@minValue(1)
param redisMaxClients int

@description('Connections each function app instance may hold (REDIS_POOL_SIZE).')
@minValue(1)
@maxValue(1000)
param redisPoolSize int = 10

@description('Most instances Flex Consumption may run. Lowered, if need be, so that instances × redisPoolSize stays within 80 % of redisMaxClients.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = '${abbrs.webSitesFunctions}${resourceToken}'
var deploymentStorageContainerName = 'app-package-${take(appName, 32)}-${take(resourceToken, 7)}'

// Connection budget: each instance holds up to redisPoolSize connections, so a full scale-out
// holds maximumInstances × redisPoolSize. It must stay within the SKU's maxclients, with 20 %
// left for reconnects that overlap a failover, a redeployment's old instances and developers;
// the instance cap comes down to fit (Flex refuses a cap below 40, so a SKU too small for 40 ×
// redisPoolSize fails the deployment: lower redisPoolSize). infra/infra_test.go checks this
// arithmetic for the default parameters.
var redisConnectionBudget = redisMaxClients * 8 / 10
var maximumInstances = min(maximumInstanceCount, redisConnectionBudget / redisPoolSize)

// REDIS_CLUSTER for the handler: OSSCluster needs a cluster client ('oss'); EnterpriseCluster
// and NoCluster expose one endpoint ('none').
var redisClusterSetting = redisClusteringPolicy == 'OSSCluster' ? 'oss' : 'none'

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity './app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage './app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentStorageContainerName
    appPrincipalId: identity.outputs.principalId
  }
}

module monitoring './app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
  }
}

module redis './app/redis.bicep' = {
  name: 'redis'
  scope: rg
  params: {
    name: '${abbrs.cacheRedisEnterprise}${resourceToken}'
    location: location
    tags: tags
    sku: redisSku
    highAvailability: redisHighAvailability
    clusteringPolicy: redisClusteringPolicy
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: redisDeveloperAccess ? principalId : ''
  }
}

module app './app/function.bicep' = {
  name: 'function'
  scope: rg
  params: {
    planName: '${abbrs.webServerFarms}${resourceToken}'
    appName: appName
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${deploymentStorageContainerName}'
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    redisHost: redis.outputs.hostPort
    redisCluster: redisClusterSetting
    redisPoolSize: redisPoolSize
    maximumInstanceCount: maximumInstances
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.name
output SERVICE_API_NAME string = app.outputs.name
output AZURE_REDIS_NAME string = redis.outputs.name
// The same names as the handler's settings, so `azd env get-values` feeds a local run
// against Azure (with REDIS_CREDENTIAL=azurecli and redisDeveloperAccess=true).
output REDIS_HOST string = redis.outputs.hostPort
output REDIS_CLUSTER string = redisClusterSetting
// The instance cap the connection budget allowed (maximumInstanceCount, or less).
output AZURE_FUNCTION_SCALE_LIMIT int = maximumInstances
