package tokenservice

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The module's go.sum lacks testify's yaml dependency, so the tests use these few helpers.

func noErr(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v%s", err, note(msgAndArgs))
	}
}

func equal[T any](t *testing.T, want, got T, msgAndArgs ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("want %v, got %v%s", want, got, note(msgAndArgs))
	}
}

func isTrue(t *testing.T, ok bool, msgAndArgs ...any) {
	t.Helper()
	if !ok {
		t.Fatalf("condition false%s", note(msgAndArgs))
	}
}

func contains(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q", s, sub)
	}
}

func notContains(t *testing.T, s, sub string) {
	t.Helper()
	if strings.Contains(s, sub) {
		t.Fatalf("%q contains %q", s, sub)
	}
}

func errorAs(t *testing.T, err error, target any) {
	t.Helper()
	if !errors.As(err, target) {
		t.Fatalf("error %v (%T) is not a %T", err, err, target)
	}
}

func note(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	format, ok := msgAndArgs[0].(string)
	if !ok {
		return fmt.Sprint(msgAndArgs...)
	}
	return ": " + fmt.Sprintf(format, msgAndArgs[1:]...)
}
