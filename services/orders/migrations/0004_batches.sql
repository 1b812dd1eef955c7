-- depends: 0003_order_documents
-- Finance creates posts in batches; each batch counts the posts it created.
CREATE TABLE orders.post_batch (
    batch_id    uuid PRIMARY KEY,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    posts       integer NOT NULL DEFAULT 0
);
INSERT INTO orders.post_batch (batch_id, created_by, created_at, posts)
    SELECT batch_id, min(created_by), min(created_at), count(*) FROM orders.supernumerary_post GROUP BY batch_id;
ALTER TABLE orders.supernumerary_post ADD CONSTRAINT supernumerary_post_batch
    FOREIGN KEY (batch_id) REFERENCES orders.post_batch (batch_id);
