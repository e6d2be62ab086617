// Azure Managed Redis with Microsoft Entra ID as the only way in: TLS on port 10000,
// access keys disabled, and one access policy assignment per identity that may connect
// (the app's, and optionally the deploying user's). An assignment's user is an object
// ID; that object ID is also the Redis user name in `AUTH <oid> <token>`.
// Property facts: https://github.com/Azure/azure-rest-api-specs,
// specification/redisenterprise/resource-manager/Microsoft.Cache/RedisEnterprise/stable/2025-07-01
// (and its examples); Entra access: https://learn.microsoft.com/azure/redis/entra-for-authentication.

param name string
param location string
param tags object
param sku string
param highAvailability string
@description('EnterpriseCluster | OSSCluster | NoCluster. Create-only unless the current value is NoCluster.')
param clusteringPolicy string
@description('Principal (object) ID of the app\'s user-assigned identity.')
param appPrincipalId string
@description('Object ID of a developer to admit as well; empty for none.')
param developerPrincipalId string

// AMR serves TLS (and plaintext, which we do not enable) on 10000; the port is create-only.
var port = 10000

resource cache 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: sku }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: highAvailability
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: cache
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: port
    clusteringPolicy: clusteringPolicy
    evictionPolicy: 'VolatileLRU'
    accessKeysAuthentication: 'Disabled'
  }
}

// Assignment names: ^[A-Za-z0-9]{1,60}$ (no hyphens). Only the 'default' policy exists.
resource appAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-07-01' = {
  parent: database
  name: 'funcapp'
  properties: {
    accessPolicyName: 'default'
    user: { objectId: appPrincipalId }
  }
}

resource developerAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-07-01' = if (!empty(developerPrincipalId)) {
  parent: database
  name: 'developer'
  properties: {
    accessPolicyName: 'default'
    user: { objectId: developerPrincipalId }
  }
  // One assignment operation at a time on a database.
  dependsOn: [appAccess]
}

output name string = cache.name
output hostPort string = '${cache.properties.hostName}:${port}'
