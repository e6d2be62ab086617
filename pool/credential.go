package pool

import (
	"fmt"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// newCredential builds the one long-lived credential Config.CredentialKind names.
// azidentity caches tokens inside it, so build it once per process.
func newCredential(c Config) (azcore.TokenCredential, error) {
	c = c.withDefaults()
	var cred azcore.TokenCredential
	var err error
	switch c.CredentialKind {
	case CredentialManagedIdentity:
		opts := &azidentity.ManagedIdentityCredentialOptions{}
		switch {
		case c.ClientID != "":
			opts.ID = azidentity.ClientID(c.ClientID)
		case c.IdentityResourceID != "":
			opts.ID = azidentity.ResourceID(c.IdentityResourceID)
		case c.IdentityObjectID != "":
			opts.ID = azidentity.ObjectID(c.IdentityObjectID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(opts)
	case CredentialWorkloadIdentity:
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientID: c.ClientID})
	case CredentialClientSecret:
		cred, err = azidentity.NewClientSecretCredential(os.Getenv("AZURE_TENANT_ID"), c.ClientID, os.Getenv("AZURE_CLIENT_SECRET"), nil)
	case CredentialClientCertificate:
		cred, err = newCertificateCredential(c.ClientID)
	case CredentialAzureCLI:
		cred, err = azidentity.NewAzureCLICredential(nil)
	case CredentialDefault:
		cred, err = azidentity.NewDefaultAzureCredential(nil)
	default:
		return nil, fmt.Errorf("REDIS_CREDENTIAL=%q is not valid", c.CredentialKind)
	}
	if err != nil {
		return nil, ErrIdentityNotFound.wrap(fmt.Errorf("build %s credential: %w", c.CredentialKind, err))
	}
	return cred, nil
}

// newCertificateCredential reads AZURE_CLIENT_CERTIFICATE_PATH (PEM or PKCS#12,
// with AZURE_CLIENT_CERTIFICATE_PASSWORD) as azidentity's environment
// credential does.
func newCertificateCredential(clientID string) (azcore.TokenCredential, error) {
	path := os.Getenv("AZURE_CLIENT_CERTIFICATE_PATH")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("AZURE_CLIENT_CERTIFICATE_PATH: %w", err)
	}
	certs, key, err := azidentity.ParseCertificates(data, []byte(os.Getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD")))
	if err != nil {
		return nil, fmt.Errorf("AZURE_CLIENT_CERTIFICATE_PATH %s: %w", path, err)
	}
	return azidentity.NewClientCertificateCredential(os.Getenv("AZURE_TENANT_ID"), clientID, certs, key, nil)
}
