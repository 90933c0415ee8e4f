-- Several nodes on one database: each node holds a lease in nodes, and
-- each call belongs to one node (owner_node) in one of its lives
-- (owner_epoch). Epochs come from one sequence, so that no two lives of
-- any node share one: a node that froze, lost its lease and woke up
-- writes with an epoch no call has any more, and is refused.

-- +goose Up
CREATE SEQUENCE node_epochs;

CREATE TABLE nodes (
    id          text        PRIMARY KEY,
    url         text        NOT NULL, -- where the other nodes forward its calls' requests
    epoch       bigint      NOT NULL,
    lease_until timestamptz NOT NULL,
    started     timestamptz NOT NULL
);

ALTER TABLE calls
    ADD COLUMN owner_node  text   NOT NULL DEFAULT '',
    ADD COLUMN owner_epoch bigint NOT NULL DEFAULT 0,
    -- dialog is the SIP dialog's state (engine.Call.Dialog), NULL for none.
    ADD COLUMN dialog      bytea;

-- A node's live calls: the ones it ends on restart, or a survivor adopts.
-- It takes the place of calls_live: one index fewer for every update of a
-- call to maintain.
CREATE INDEX calls_owner_live ON calls (owner_node, seq) WHERE state <> 'disconnected';
DROP INDEX calls_live;

-- The webhooks queued for a call (adoption, the fence on deletes).
CREATE INDEX outbox_by_call ON outbox (call_id, id);

-- voicehook_fence refuses, for the rest of the transaction, a write to a
-- call owned by another node or by another life of this one, and a new
-- call from a node that no longer holds its lease in that epoch. The row
-- it read stays locked (FOR SHARE) until the transaction ends, so that no
-- adoption slips in between the check and the write.
-- +goose StatementBegin
CREATE FUNCTION voicehook_fence(p_call text, p_node text, p_epoch bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    o text;
    e bigint;
BEGIN
    SELECT owner_node, owner_epoch INTO o, e FROM calls WHERE call_id = p_call FOR SHARE;
    IF FOUND THEN
        IF o <> p_node OR e <> p_epoch THEN
            RAISE EXCEPTION 'call % belongs to node % (epoch %), not to node % (epoch %)', p_call, o, e, p_node, p_epoch
                USING ERRCODE = 'VH001';
        END IF;
        RETURN;
    END IF;
    PERFORM 1 FROM nodes WHERE id = p_node AND epoch = p_epoch FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'node % holds no lease in epoch %: it may not start call %', p_node, p_epoch, p_call
            USING ERRCODE = 'VH001';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION voicehook_fence(text, text, bigint);
DROP INDEX outbox_by_call;
DROP INDEX calls_owner_live;
CREATE INDEX calls_live ON calls (seq) WHERE state <> 'disconnected';
ALTER TABLE calls DROP COLUMN dialog, DROP COLUMN owner_epoch, DROP COLUMN owner_node;
DROP TABLE nodes;
DROP SEQUENCE node_epochs;
