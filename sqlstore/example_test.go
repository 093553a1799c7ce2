package sqlstore_test

import (
	"context"
	"database/sql"
	"log"
	"net/http"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/sqlstore"
)

// A notification handler whose function marks the order paid in the
// store's transaction, so that the update and the store's mark commit
// together. db comes from sql.Open with the driver of your choice, e.g.
// sql.Open("pgx", dsn) with github.com/jackc/pgx/v5/stdlib imported.
func Example() {
	var db *sql.DB // sql.Open("pgx", os.Getenv("DATABASE_URL"))
	var client *hipopay.Client
	ctx := context.Background()

	store, err := sqlstore.New(db) // sqlstore.New(db, sqlstore.SQLite) on SQLite
	if err != nil {
		log.Fatal(err)
	}
	if err := store.CreateTable(ctx); err != nil { // or store.Schema() in a migration
		log.Fatal(err)
	}
	http.Handle("/hipopay/notify", client.NotificationHandler(func(ctx context.Context, n *hipopay.PaymentNotification) error {
		tx, _ := sqlstore.TxFromContext(ctx)
		_, err := tx.ExecContext(ctx, "UPDATE orders SET status = 'PAID', payment_no = $1 WHERE out_trade_id = $2",
			n.PaymentNo, n.OutTradeID)
		return err
	}, hipopay.WithStore(store)))
}
