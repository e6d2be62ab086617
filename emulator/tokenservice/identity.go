package tokenservice

import "strings"

// Identity is one managed identity the service can issue tokens for.
type Identity struct {
	ClientID   string // application (client) ID; user-assigned identities are selected by it
	ObjectID   string // principal (object) ID: the token's oid/sub claims
	ResourceID string // ARM resource ID (mi_res_id), optional
}

// selector is how a request names the identity it wants; all fields empty means
// the system-assigned identity.
type selector struct {
	clientID, objectID, resourceID string
}

func (sel selector) empty() bool {
	return sel.clientID == "" && sel.objectID == "" && sel.resourceID == ""
}

// matches reports whether id satisfies every field sel sets. GUIDs and ARM
// resource IDs compare case-insensitively, as Azure does.
func (sel selector) matches(id Identity) bool {
	if sel.clientID != "" && !strings.EqualFold(sel.clientID, id.ClientID) {
		return false
	}
	if sel.objectID != "" && !strings.EqualFold(sel.objectID, id.ObjectID) {
		return false
	}
	if sel.resourceID != "" && (id.ResourceID == "" || !strings.EqualFold(sel.resourceID, id.ResourceID)) {
		return false
	}
	return true
}
