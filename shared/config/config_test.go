package config

import (
	"testing"
	"time"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestDefaultsAndValidation(t *testing.T) {
	c, err := FromLookup(lookup(nil))
	if err != nil || c.Mode != Local || c.Table != "pigeon" || c.DefaultDomain() != "pigeon.local" || c.EventRetention() != 30*24*time.Hour {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	c, err = FromLookup(lookup(map[string]string{"PIGEON_DOMAIN": " Agents.Example.com , b.test", "PIGEON_EVENT_RETENTION_DAYS": "7"}))
	if err != nil || !c.OwnsDomain("agents.example.com") || !c.OwnsDomain("B.TEST") || c.OwnsDomain("example.com") || c.EventRetention() != 7*24*time.Hour {
		t.Fatalf("domains/retention: %+v, %v", c, err)
	}
	for _, bad := range []map[string]string{
		{"PIGEON_MODE": "prod"}, {"PIGEON_EVENT_RETENTION_DAYS": "0"}, {"PIGEON_MAX_INBOUND_BYTES": "x"}, {"PIGEON_S3_PATH_STYLE": "maybe"},
	} {
		if _, err := FromLookup(lookup(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
