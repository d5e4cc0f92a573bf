package dynamo

import (
	"fmt"
	"regexp"
	"time"
)

// keyAttr is one attribute of a key schema.
type keyAttr struct {
	AttributeName string
	KeyType       string // HASH or RANGE
}

type attrDef struct {
	AttributeName string
	AttributeType string // S, N or B
}

type projection struct {
	ProjectionType   string   `json:",omitempty"` // ALL, KEYS_ONLY, INCLUDE
	NonKeyAttributes []string `json:",omitempty"`
}

type indexDesc struct {
	IndexName      string
	KeySchema      []keyAttr
	Projection     projection
	IndexStatus    string `json:",omitempty"`
	IndexArn       string `json:",omitempty"`
	ItemCount      int64
	IndexSizeBytes int64
}

type streamSpec struct {
	StreamEnabled  bool
	StreamViewType string `json:",omitempty"`
}

// tableDesc is what the database keeps of a table, in DescribeTable's shape.
type tableDesc struct {
	TableName              string
	TableArn               string
	TableId                string
	TableStatus            string
	KeySchema              []keyAttr
	AttributeDefinitions   []attrDef
	GlobalSecondaryIndexes []indexDesc  `json:",omitempty"`
	StreamSpecification    *streamSpec  `json:",omitempty"`
	LatestStreamArn        string       `json:",omitempty"`
	LatestStreamLabel      string       `json:",omitempty"`
	BillingModeSummary     *billingMode `json:",omitempty"`
	CreationDateTime       float64
	ItemCount              int64
	TableSizeBytes         int64

	TTLAttribute string `json:"-"` // kept beside, under the meta key (see ttl.go)
}

type billingMode struct{ BillingMode string }

// schema is a table's or index's key: hash attribute, optional range attribute, and their types.
type schema struct {
	hash, rng         string
	hashType, rngType string
}

var tableNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

func (t *tableDesc) schema() schema { return schemaOf(t.KeySchema, t.AttributeDefinitions) }

func (t *tableDesc) index(name string) *indexDesc {
	for i := range t.GlobalSecondaryIndexes {
		if t.GlobalSecondaryIndexes[i].IndexName == name {
			return &t.GlobalSecondaryIndexes[i]
		}
	}
	return nil
}

func schemaOf(ks []keyAttr, defs []attrDef) schema {
	var s schema
	typ := func(name string) string {
		for _, d := range defs {
			if d.AttributeName == name {
				return d.AttributeType
			}
		}
		return ""
	}
	for _, k := range ks {
		if k.KeyType == "HASH" {
			s.hash, s.hashType = k.AttributeName, typ(k.AttributeName)
		} else {
			s.rng, s.rngType = k.AttributeName, typ(k.AttributeName)
		}
	}
	return s
}

// validateCreate checks a CreateTable request as DynamoDB does, for what this engine serves.
func validateCreate(t *tableDesc, localIndexes int) error {
	if !tableNameRE.MatchString(t.TableName) {
		return validationf("TableName must be at least 3 characters long and at most 255 characters long, and contain only [a-zA-Z0-9_.-]")
	}
	if localIndexes > 0 {
		return validationf("LocalSecondaryIndexes are not supported by Pigeon's embedded DynamoDB")
	}
	defined := map[string]string{}
	for _, d := range t.AttributeDefinitions {
		switch d.AttributeType {
		case "S", "B":
		case "N":
			return validationf("Pigeon's embedded DynamoDB keys must be of type S or B; attribute %s is N", d.AttributeName)
		default:
			return validationf("Member must satisfy enum value set: [B, N, S] (AttributeType of %s)", d.AttributeName)
		}
		defined[d.AttributeName] = d.AttributeType
	}
	used := map[string]bool{}
	check := func(ks []keyAttr, what string) error {
		if len(ks) == 0 || len(ks) > 2 || ks[0].KeyType != "HASH" || (len(ks) == 2 && ks[1].KeyType != "RANGE") {
			return validationf("Invalid KeySchema for %s: the first element must be HASH and an optional second RANGE", what)
		}
		for _, k := range ks {
			if defined[k.AttributeName] == "" {
				return validationf("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: %v", k.AttributeName, keysOf(defined))
			}
			used[k.AttributeName] = true
		}
		return nil
	}
	if err := check(t.KeySchema, "the table"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i := range t.GlobalSecondaryIndexes {
		g := &t.GlobalSecondaryIndexes[i]
		if seen[g.IndexName] {
			return validationf("One or more parameter values were invalid: Duplicate index name: %s", g.IndexName)
		}
		seen[g.IndexName] = true
		if err := check(g.KeySchema, "index "+g.IndexName); err != nil {
			return err
		}
		switch g.Projection.ProjectionType {
		case "ALL", "KEYS_ONLY", "INCLUDE":
		case "":
			return validationf("One or more parameter values were invalid: Projection must be specified for index %s", g.IndexName)
		default:
			return validationf("Unknown ProjectionType %s", g.Projection.ProjectionType)
		}
		g.IndexStatus = "ACTIVE"
		g.IndexArn = t.TableArn + "/index/" + g.IndexName
	}
	if len(used) != len(defined) {
		return validationf("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	return nil
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func newTableDesc(name string, now time.Time) *tableDesc {
	return &tableDesc{
		TableName: name, TableStatus: "ACTIVE",
		TableArn:         fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", Region, Account, name),
		TableId:          fmt.Sprintf("%016x", now.UnixNano()),
		CreationDateTime: float64(now.UnixMilli()) / 1000,
	}
}
