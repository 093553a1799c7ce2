package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hipopay-go/hipopay/sqlstore"
)

// The store at its edges: tables that cannot keep marks, one table spelt
// several ways by instances starting together, and keys no payment number
// looks like.

// TestPostgresStoreRefusesTemporaryTables: a table in pg_temp lives in one
// connection, so its marks vanish on a reconnect and a payment would be
// processed twice. Refused however it is spelt, and also when an
// unqualified name resolves to pg_temp through the search_path.
func TestPostgresStoreRefusesTemporaryTables(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	for _, name := range []string{"pg_temp.marks", "PG_TEMP.marks", "Pg_Temp.Marks", "pg_temp_1.marks", "PG_TEMP_12.x", "pg_toast_temp_1.marks", `"pg_temp".marks`, `"PG_TEMP".marks`} {
		_, err := sqlstore.New(db, sqlstore.WithTable(name))
		assert.Error(t, err, "%s", name)
	}

	// search_path = pg_temp, <schema>: "marks" would be created as a
	// temporary table.
	tempFirst, err := openDB("pgx", withSearchPath(t, b.dsn, "pg_temp,"+b.schema))
	require.NoError(t, err)
	defer tempFirst.Close()
	store, err := sqlstore.New(tempFirst, sqlstore.WithTable("marks"))
	require.NoError(t, err, "the name alone is fine")
	err = store.CreateTable(context.Background())
	require.Error(t, err, "CreateTable made a temporary table")
	assert.ErrorContains(t, err, "temporary")
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM pg_class WHERE relname = 'marks' AND relpersistence = 't'").Scan(&n))
	assert.Zero(t, n, "the temporary table was left behind")
}

// TestSQLiteStoreRefusesTemporaryTables: on SQLite the temp schema is one
// connection's too.
func TestSQLiteStoreRefusesTemporaryTables(t *testing.T) {
	b := sqliteBackend(t)
	db := b.open(t)
	for _, name := range []string{"temp.marks", "TEMP.marks", "Temp.Marks", `"temp".marks`, "`temp`.marks", "[temp].marks"} {
		_, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithTable(name))
		assert.Error(t, err, "%s", name)
	}
}

// TestPostgresCreateTableSpellings: instances naming one table differently
// ("marks", "MARKS", "<schema>.marks", ...) create it at the same time
// without failing, round after round.
func TestPostgresCreateTableSpellings(t *testing.T) {
	b := postgresBackend(t)
	db := b.open(t)
	names := []string{"marks", "MARKS", "Marks", "mArKs", b.schema + ".marks", strings.ToUpper(b.schema) + ".MARKS", b.schema + ".Marks"}
	stores := make([]*sqlstore.Store, len(names))
	for i, name := range names {
		s, err := sqlstore.New(b.open(t), sqlstore.WithTable(name))
		require.NoError(t, err)
		stores[i] = s
	}
	const rounds = 15
	failed := 0
	for round := range rounds {
		_, err := db.Exec("DROP TABLE IF EXISTS marks")
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make(chan error, len(stores))
		start := make(chan struct{})
		for _, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := s.CreateTable(context.Background()); err != nil {
					errs <- fmt.Errorf("round %d, %s: %w", round, s.Table(), err)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			failed++
			if failed <= 3 {
				t.Error(err)
			}
		}
	}
	require.Zero(t, failed, "CreateTable calls failed over %d rounds of %d spellings", rounds, len(names))
}

// TestPostgresStoreAnyKey and TestSQLiteStoreAnyKey store keys no payment
// number looks like: invalid UTF-8, thousands of bytes, keys one byte
// apart, a key spelling another one's stored form. Each is processed once,
// apart from every other, and what the table holds is short valid text.
func TestPostgresStoreAnyKey(t *testing.T) { runAnyKey(t, postgresBackend(t)) }

// TestSQLiteStoreAnyKey: see TestPostgresStoreAnyKey.
func TestSQLiteStoreAnyKey(t *testing.T) { runAnyKey(t, sqliteBackend(t)) }

func runAnyKey(t *testing.T, b *backend) {
	store := newStore(t, b, b.open(t))
	ctx := context.Background()
	long := strings.Repeat(randomHex(t, 8)+"-", 1000) // 17,000 bytes
	sum := sha256.Sum256([]byte(long))
	exact := strings.Repeat("9", 128)
	keys := []string{
		paymentNo(1),
		"P1\xff\xfe",
		"\xc3\x28",
		string([]byte{0xed, 0xa0, 0x80}), // a UTF-16 surrogate, invalid in UTF-8
		long,
		long[:len(long)-1] + "x",
		long[:3000],
		exact,
		exact + "9",
		strings.Repeat("%", 50), // 150 bytes once escaped
		"sha256:" + hex.EncodeToString(sum[:]),
		"sha256:",
		paymentNo(1) + "\x00CLOSED",
		"P\x00\xff",
	}
	for i, key := range keys {
		processed, err := store.Processed(ctx, key)
		require.NoError(t, err, "key %d", i)
		require.False(t, processed, "key %d seen before it was processed", i)
		calls := 0
		for range 2 {
			_, err := store.Process(ctx, key, func(context.Context) error { calls++; return nil })
			require.NoError(t, err, "key %d", i)
		}
		assert.Equal(t, 1, calls, "key %d: function calls", i)
		processed, err = store.Processed(ctx, key)
		require.NoError(t, err, "key %d", i)
		assert.True(t, processed, "key %d", i)
	}
	stored := marks(t, b.open(t), store)
	assert.Len(t, stored, len(keys), "one mark per key")
	for _, m := range stored {
		assert.True(t, utf8.ValidString(m), "stored key %q is not valid UTF-8", m)
		assert.LessOrEqual(t, len(m), 128, "stored key of %d bytes", len(m))
	}
	assert.Contains(t, stored, paymentNo(1), "a payment number is stored as it is")
	assert.Contains(t, stored, exact, "a 128-byte key is stored as it is")
}
