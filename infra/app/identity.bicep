// The user-assigned identity the function app runs as. One identity serves the host
// (AzureWebJobsStorage, deployment container, Application Insights) and the handler
// (Redis): its client ID selects it, its object (principal) ID is the Redis user name.

param name string
param location string
param tags object

resource uami 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = uami.id
output clientId string = uami.properties.clientId
output principalId string = uami.properties.principalId
