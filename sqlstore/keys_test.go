package sqlstore

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMarkKey: payment numbers and short valid keys are stored as they
// are (escaped); invalid UTF-8, long keys and keys starting with the
// prefix are hashed; the stored form is always short valid UTF-8 without
// a zero byte.
func TestMarkKey(t *testing.T) {
	hash := func(k string) string {
		sum := sha256.Sum256([]byte(k))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	exact := strings.Repeat("7", 128)
	long := strings.Repeat("ab", 3000)
	for key, want := range map[string]string{
		"2023111418154204114199308": "2023111418154204114199308",
		"P1\x00CLOSED":              "P1%00CLOSED",
		"a%00b\x00":                 "a%2500b%00",
		exact:                       exact,
		exact + "7":                 hash(exact + "7"),
		strings.Repeat("%", 42):     strings.Repeat("%25", 42), // 126 bytes escaped
		strings.Repeat("%", 43):     hash(strings.Repeat("%", 43)),
		"P1\xff":                    hash("P1\xff"),
		long:                        hash(long),
		"sha256:":                   hash("sha256:"),
		hash(long):                  hash(hash(long)),
		"SHA256:x":                  "SHA256:x",
		"名前":                        "名前",
	} {
		assert.Equal(t, want, markKey(key), "%q", key)
	}
	for _, key := range []string{"P1\xff", long, "\x00\xff", exact + "7", "sha256:"} {
		m := markKey(key)
		assert.True(t, utf8.ValidString(m), "%q", key)
		assert.LessOrEqual(t, len(m), 128, "%q", key)
		assert.NotContains(t, m, "\x00", "%q", key)
	}
	// One-to-one on keys built to collide: a key spelling another key's
	// stored form, keys one byte apart beyond the limit.
	keys := []string{long, hash(long), long[:len(long)-1] + "c", exact, exact + "7", exact + "8", "%00", "\x00", "%2500", "%00\xff", "\x00\xff"}
	seen := map[string]string{}
	for _, k := range keys {
		m := markKey(k)
		if other, dup := seen[m]; dup {
			t.Errorf("%q and %q are both stored as %q", other, k, m)
		}
		seen[m] = k
	}
}

func TestStoreRefusesTemporaryTables(t *testing.T) {
	db := sql.OpenDB(&fakeSQL{})
	defer db.Close()
	for _, name := range []string{"pg_temp.marks", "PG_TEMP.Marks", "pg_temp_3.marks", "Pg_Toast_Temp_12.x"} {
		_, err := New(db, WithTable(name))
		assert.ErrorContains(t, err, "temporary", name)
		// The dialect given before or after the table.
		_, err = New(db, Postgres, WithTable(name))
		assert.ErrorContains(t, err, "temporary", name)
	}
	for _, name := range []string{"temp.marks", "TEMP.marks", "Temp.Marks"} {
		_, err := New(db, SQLite, WithTable(name))
		assert.ErrorContains(t, err, "temporary", name)
		_, err = New(db, WithTable(name), SQLite)
		assert.ErrorContains(t, err, "temporary", name)
	}
	for _, name := range []string{"marks", "pg_temporary.marks", "pg_temp_x.marks", "pg_temp_.marks", "temps.marks", "tmp.marks", "pg_temp"} {
		_, err := New(db, WithTable(name))
		assert.NoError(t, err, name)
	}
	// temp is a plain schema name on PostgreSQL, pg_temp an unknown
	// database on SQLite (which then fails on its own).
	_, err := New(db, WithTable("temp.marks"))
	assert.NoError(t, err)
}

func TestFoldedName(t *testing.T) {
	assert.Equal(t, "public.marks", foldedName("marks", "public"))
	assert.Equal(t, "public.marks", foldedName("MARKS", "public"))
	assert.Equal(t, "public.marks", foldedName("Public.Marks", "whatever"))
	assert.Equal(t, "shop.marks", foldedName("marks", "Shop"))
	require.NotEqual(t, foldedName("a.marks", "b"), foldedName("marks", "b"))
}
