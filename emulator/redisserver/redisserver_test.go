package redisserver

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestStartWithRandomPassword(t *testing.T) {
	if !Installed() {
		t.Skip("redis-server not installed")
	}
	s, err := Start(context.Background(), Options{Password: "random"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Password) != 32 || s.Embedded {
		t.Fatalf("password %d chars, embedded %v", len(s.Password), s.Embedded)
	}
	if err := Ping(s.Addr, s.Password); err != nil {
		t.Fatal(err)
	}
	if err := Ping(s.Addr, "wrong"); err == nil {
		t.Fatal("a wrong password must be refused")
	}
	dir := s.dir
	conf, err := os.ReadFile(dir + "/redis.conf")
	if err != nil || !strings.Contains(string(conf), s.Password) {
		t.Fatalf("password not in the config file: %v", err)
	}
	s.Close()
	s.Close() // idempotent
	if Ping(s.Addr, s.Password) == nil {
		t.Fatal("still answering after Close")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("data dir left behind: %v", err)
	}
}

func TestEmbeddedAndExisting(t *testing.T) {
	e, err := StartEmbedded(Options{Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := Ping(e.Addr, "pw"); err != nil {
		t.Fatal(err)
	}
	existing := &Server{Addr: e.Addr, Password: "pw"}
	existing.Close() // must leave the server alone
	if err := Ping(e.Addr, "pw"); err != nil {
		t.Fatalf("Close on a server we did not start stopped it: %v", err)
	}
}
