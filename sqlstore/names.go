// Table names: what WithTable accepts.

package sqlstore

import (
	"errors"
	"fmt"
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
