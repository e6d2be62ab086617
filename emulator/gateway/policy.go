package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// DefaultAccess is the backend ACL rule set of the Azure "default" access
// policy: every data command on every key and channel, no administrative
// commands.
const DefaultAccess = "+@all -@admin ~* &*"

// deniedUser is the backend user a refused AUTH is rewritten to. It never
// exists (object IDs cannot contain ':'), so redis-server itself answers
// WRONGPASS.
const deniedUser = "gateway:denied"

// ErrInvalidPolicy is returned by AssignPolicy for an object ID or access
// string it cannot map onto a backend ACL user.
var ErrInvalidPolicy = errors.New("gateway: invalid access policy assignment")

// policy is one access policy assignment: the backend ACL user that carries it.
type policy struct {
	user     string
	password string
}

// AssignPolicy assigns objectID an access policy. accessString "" or
// "default" is Azure's default policy (DefaultAccess); anything else is a
// Redis ACL rule list such as "+@read +@connection ~*" (Azure's custom access
// policies use this syntax). Assigning again updates the rules in place:
// connections already authenticated as objectID stay open and get the new
// rules at once, as on Azure.
func (g *Gateway) AssignPolicy(objectID, accessString string) error {
	if !validObjectID(objectID) {
		return fmt.Errorf("%w: object ID must be letters, digits and '-'", ErrInvalidPolicy)
	}
	rules, err := aclRules(accessString)
	if err != nil {
		return err
	}
	g.mu.Lock()
	p, ok := g.policies[objectID]
	g.mu.Unlock()
	if !ok {
		p = policy{user: "amr-" + objectID, password: randomPassword()}
	}
	args := []any{"ACL", "SETUSER", p.user, "reset", "on", ">" + p.password}
	for _, r := range rules {
		args = append(args, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	if err := g.admin.Do(ctx, args...).Err(); err != nil {
		return fmt.Errorf("gateway: ACL SETUSER for object ID %s: %w", objectID, err)
	}
	g.mu.Lock()
	g.policies[objectID] = p
	g.mu.Unlock()
	return nil
}

// Revoke removes objectID's access policy assignment: later AUTHs with its
// tokens are refused (no_policy). Connections already authenticated keep
// working until their token expires. Revoking an object ID without an
// assignment does nothing.
func (g *Gateway) Revoke(objectID string) error {
	g.mu.Lock()
	delete(g.policies, objectID)
	g.mu.Unlock()
	return nil
}

// policyFor returns objectID's assignment.
func (g *Gateway) policyFor(objectID string) (policy, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	p, ok := g.policies[objectID]
	return p, ok
}

func validObjectID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// aclRules splits an access string into ACL SETUSER rules, refusing rules
// that would touch the user's passwords or state (the gateway owns those).
func aclRules(access string) ([]string, error) {
	if access == "" || strings.EqualFold(access, "default") {
		access = DefaultAccess
	}
	rules := strings.Fields(access)
	for _, r := range rules {
		switch strings.ToLower(r) {
		case "on", "off", "nopass", "resetpass", "reset":
			return nil, fmt.Errorf("%w: rule %q is managed by the gateway", ErrInvalidPolicy, r)
		}
		if strings.ContainsAny(r[:1], "<>#!") {
			return nil, fmt.Errorf("%w: password rules are managed by the gateway", ErrInvalidPolicy)
		}
	}
	return rules, nil
}

func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
