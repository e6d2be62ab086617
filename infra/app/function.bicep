// The Flex Consumption plan and the function app: a custom handler (runtime custom 1.0)
// running as the user-assigned identity, deployed from a blob container.
//
// appSettings holds one `{ name: 'X', value: ... }` per line: infra/infra_test.go reads
// them that way and checks each name against the settings the Go code reads. Do not set
// FUNCTIONS_WORKER_RUNTIME or FUNCTIONS_EXTENSION_VERSION: they are deprecated on Flex,
// which takes the runtime from functionAppConfig.runtime.

param planName string
param appName string
param location string
param tags object
@description('The azure.yaml service deployed here; azd finds the app by its azd-service-name tag.')
param serviceName string
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerUrl string
param applicationInsightsConnectionString string
@description('<hostName>:10000 of the Azure Managed Redis database.')
param redisHost string
@description('oss | none, matching the database clustering policy.')
param redisCluster string
@description('Connections each instance may hold (REDIS_POOL_SIZE).')
param redisPoolSize int
@description('Most instances Flex may run; main.bicep derives it from the Redis connection budget.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  // Only the app carries azd-service-name: azd refuses a tag that matches two resources.
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: maximumInstanceCount, instanceMemoryMB: instanceMemoryMB }
      runtime: { name: 'custom', version: '1.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        // Platform settings (the host reads them; the handler does not).
        { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        // The handler's settings (envconfig names in the Go code).
        { name: 'REDIS_HOST', value: redisHost }
        { name: 'REDIS_CLUSTER', value: redisCluster }
        { name: 'REDIS_AUTH', value: 'entra' }
        { name: 'REDIS_CREDENTIAL', value: 'managedidentity' }
        { name: 'AZURE_CLIENT_ID', value: identityClientId }
        { name: 'REDIS_POOL_SIZE', value: string(redisPoolSize) }
      ]
    }
  }
}

output name string = site.name
