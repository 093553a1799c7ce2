// Table names: what WithTable accepts.

package sqlstore

import (
	"errors"
	"fmt"
	"strings"
)

// checkTableName accepts an identifier, optionally schema-qualified, of
// ASCII letters, digits and underscores.
func checkTableName(name string) error {
	if name == "" {
		return errors.New("empty table name")
	}
	parts := 0
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			c := name[i]
			letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
			digit := '0' <= c && c <= '9'
			if !letter && !digit {
				return fmt.Errorf("table name %q: only letters, digits, underscores and one dot are allowed", name)
			}
			if digit && i == start {
				return fmt.Errorf("table name %q: a part starts with a digit", name)
			}
			continue
		}
		switch n := i - start; {
		case n == 0:
			return fmt.Errorf("table name %q: empty part", name)
		case n > 63:
			return fmt.Errorf("table name %q: a part is longer than 63 bytes", name)
		}
		parts++
		start = i + 1
	}
	if parts > 2 {
		return fmt.Errorf("table name %q: at most schema.table", name)
	}
	return nil
}

// checkNotTemporary refuses a table in a schema that lives and dies with
// one connection: PostgreSQL's pg_temp (pg_temp_N, pg_toast_temp_N) and
// SQLite's temp, in any case. Its marks would vanish on a reconnect.
func checkNotTemporary(d Dialect, table string) error {
	schema, _, ok := strings.Cut(table, ".")
	if !ok {
		return nil
	}
	schema = strings.ToLower(schema)
	temporary := false
	switch d {
	case SQLite:
		temporary = schema == "temp"
	default:
		temporary = schema == "pg_temp" || numbered(schema, "pg_temp_") || numbered(schema, "pg_toast_temp_")
	}
	if temporary {
		return fmt.Errorf("table name %q: a temporary schema lives in one connection, so its marks would vanish", table)
	}
	return nil
}

// numbered reports whether s is prefix followed by one or more digits.
func numbered(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return false
		}
	}
	return true
}

// foldedName is the table's name as PostgreSQL resolves an unquoted one:
// lower case, qualified by schema (current_schema() when unqualified).
func foldedName(table, currentSchema string) string {
	table = strings.ToLower(table)
	if strings.Contains(table, ".") {
		return table
	}
	return strings.ToLower(currentSchema) + "." + table
}
