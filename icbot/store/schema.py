"""The journal's schema as an ordered, append-only list of migrations (sqlite-utils ``Migrations``).

Never edit a migration that has shipped: a database in the field has already run it. Add ``m002_…`` below
instead, and add any new table to `ICBOT_TABLES` (identity.py). docs/storage.md describes every table and column.

The append-only promise ("nothing is ever deleted"; events, status history, fills, alerts and halts are never
rewritten) is enforced by triggers in the database itself, not only by the code that writes it, so a
hand-typed ``sqlite3`` session or a future bug cannot silently rewrite history.
"""

from __future__ import annotations

import secrets

# re-exported: defined without sqlite-utils for the read-only reader (icbot.store.identity)
from icbot.store.identity import APPLICATION_ID as APPLICATION_ID
from icbot.store.identity import ICBOT_TABLES as ICBOT_TABLES
from icbot.store.identity import SYSTEM_TABLES as SYSTEM_TABLES
from icbot.store.lite import Database, Migrations

MIGRATION_SET = "icbot"

MODES_SQL = "('paper','live','experiment')"

M001_SQL = f"""
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    command     TEXT    NOT NULL,
    mode        TEXT    NOT NULL,
    trade_date  TEXT,
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    exit_code   INTEGER,
    pid         INTEGER NOT NULL,
    host        TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    argv        TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(argv)),
    summary     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_day ON runs (trade_date, mode);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER REFERENCES runs (id),
    trade_date TEXT NOT NULL,
    mode       TEXT NOT NULL,
    at         TEXT NOT NULL,
    phase      TEXT NOT NULL CHECK (phase <> ''),
    status     TEXT NOT NULL CHECK (status IN ('start','ok','fail','skip','info','warn')),
    message    TEXT NOT NULL DEFAULT '',
    data       TEXT CHECK (data IS NULL OR json_valid(data))
);
CREATE INDEX events_by_day ON events (trade_date, mode, id);

CREATE TABLE trades (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    trade_date          TEXT    NOT NULL,
    mode                TEXT    NOT NULL CHECK (mode IN {MODES_SQL}),
    status              TEXT    NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending','open','closed','no_trade','failed')),
    experiment          INTEGER NOT NULL DEFAULT 0 CHECK (experiment IN (0, 1)),
    short_put           REAL,
    long_put            REAL,
    short_call          REAL,
    long_call           REAL,
    put_delta           REAL,
    call_delta          REAL,
    spx_at_entry        REAL,
    vix                 REAL,
    mid_at_decision     REAL,
    natural_at_decision REAL,
    limit_price         REAL,
    ladder_attempts     INTEGER,
    seconds_to_fill     REAL,
    quantity            INTEGER CHECK (quantity IS NULL OR quantity >= 0),
    credit              REAL,
    entry_commission    REAL,
    entry_filled_at     TEXT,
    entry_order_ref     TEXT,
    oca_group           TEXT,
    exit_reason         TEXT CHECK (exit_reason IS NULL
                                    OR exit_reason IN ('take_profit','stop','time_exit','manual','expired')
                                    OR exit_reason LIKE 'experiment\\_%' ESCAPE '\\'),
    exit_debit          REAL,
    exit_commission     REAL,
    exited_at           TEXT,
    pnl                 REAL,
    minutes_in_trade    REAL,
    no_trade_reason     TEXT,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    UNIQUE (trade_date, mode)
);
CREATE INDEX trades_by_status ON trades (mode, status);

CREATE TABLE orders (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    trade_date     TEXT    NOT NULL,
    mode           TEXT    NOT NULL CHECK (mode IN {MODES_SQL}),
    role           TEXT    NOT NULL CHECK (role IN ('entry','take_profit','stop','time_exit','close')),
    order_ref      TEXT    NOT NULL UNIQUE CHECK (order_ref <> ''),
    order_id       INTEGER,
    perm_id        INTEGER,
    action         TEXT    NOT NULL CHECK (action IN ('BUY','SELL')),
    order_type     TEXT    NOT NULL,
    quantity       REAL    NOT NULL CHECK (quantity > 0),
    limit_price    REAL,
    aux_price      REAL,
    trigger_method INTEGER,
    good_after     TEXT,
    oca_group      TEXT,
    legs           TEXT    NOT NULL CHECK (json_valid(legs)),
    status         TEXT    NOT NULL DEFAULT 'intent',
    filled         REAL    NOT NULL DEFAULT 0,
    avg_fill_price REAL,
    intent_at      TEXT    NOT NULL,
    placed_at      TEXT,
    updated_at     TEXT    NOT NULL,
    transmitted    INTEGER NOT NULL DEFAULT 1 CHECK (transmitted IN (0, 1))
);
CREATE INDEX orders_by_day ON orders (trade_date, mode, role);
CREATE INDEX orders_by_perm ON orders (perm_id);

CREATE TABLE order_status (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    order_ref      TEXT NOT NULL REFERENCES orders (order_ref),
    at             TEXT NOT NULL,
    status         TEXT NOT NULL,
    filled         REAL NOT NULL,
    remaining      REAL NOT NULL,
    avg_fill_price REAL,
    message        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_status_by_ref ON order_status (order_ref, id);

CREATE TABLE order_prices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_ref   TEXT NOT NULL REFERENCES orders (order_ref),
    at          TEXT NOT NULL,
    limit_price REAL,
    aux_price   REAL
);
CREATE INDEX order_prices_by_ref ON order_prices (order_ref, id);

CREATE TABLE fills (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    exec_id     TEXT    NOT NULL UNIQUE CHECK (exec_id <> ''),
    order_ref   TEXT,
    order_id    INTEGER,
    perm_id     INTEGER,
    trade_date  TEXT    NOT NULL,
    mode        TEXT    NOT NULL CHECK (mode IN {MODES_SQL}),
    con_id      INTEGER,
    local_symbol TEXT,
    "right"     TEXT CHECK ("right" IS NULL OR "right" IN ('P','C')),
    strike      REAL,
    side        TEXT    NOT NULL CHECK (side IN ('BOT','SLD')),
    quantity    REAL    NOT NULL CHECK (quantity > 0),
    price       REAL    NOT NULL,
    commission  REAL,
    at          TEXT    NOT NULL,
    role        TEXT
);
CREATE INDEX fills_by_day ON fills (trade_date, mode, role);
CREATE INDEX fills_by_ref ON fills (order_ref);

CREATE TABLE alerts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT    NOT NULL,
    level     TEXT    NOT NULL CHECK (level IN ('info','warning','failure')),
    title     TEXT    NOT NULL,
    body      TEXT    NOT NULL,
    delivered INTEGER NOT NULL CHECK (delivered IN (0, 1)),
    error     TEXT
);

CREATE TABLE halts (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('halt','resume')),
    reason TEXT NOT NULL DEFAULT '',
    "by"   TEXT NOT NULL
);
"""

_FILL_IDENTITY = (
    'exec_id, order_ref, order_id, perm_id, trade_date, mode, con_id, local_symbol, "right", strike, side, '
    "quantity, price, at, role"
)


# The tables m001 creates (its triggers must not name a table a later migration adds).
M001_TABLES = ("alerts", "events", "fills", "halts", "order_prices", "order_status", "orders", "runs", "trades")


def _guards() -> str:
    """Triggers: no table loses rows; history tables never change; identity columns never change."""
    sql = []
    for table in sorted(M001_TABLES):
        sql.append(
            f"CREATE TRIGGER {table}_never_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: icbot never deletes rows'); END;"
        )
    for table in ("events", "order_status", "order_prices", "alerts", "halts"):
        sql.append(
            f"CREATE TRIGGER {table}_never_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: rows are never changed'); END;"
        )
    frozen = {
        "fills": _FILL_IDENTITY,  # only the commission may arrive later
        "orders": "order_ref, trade_date, mode, role, action, intent_at",
        "trades": "trade_date, mode, created_at",
        "runs": "command, started_at, pid, host",
    }
    for table, cols in frozen.items():
        sql.append(
            f"CREATE TRIGGER {table}_identity_frozen BEFORE UPDATE OF {cols} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table}: identity columns are never changed'); END;"
        )
    return "\n".join(sql)


migrations = Migrations(MIGRATION_SET)


@migrations()
def m001_initial(db: Database) -> None:
    db.executescript(M001_SQL)
    db.executescript(_guards())
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


@migrations()
def m002_trade_exit_health(db: Database) -> None:
    """What the runner needs to resume a day: were all three exits acknowledged, when is the time exit,
    and the last problem seen (for `status` and the next run's repair)."""
    db.executescript(
        """
        ALTER TABLE trades ADD COLUMN exits_ok INTEGER CHECK (exits_ok IS NULL OR exits_ok IN (0, 1));
        ALTER TABLE trades ADD COLUMN time_exit_at TEXT;
        ALTER TABLE trades ADD COLUMN last_problem TEXT;
        """
    )


@migrations()
def m003_installation(db: Database) -> None:
    """This journal's installation id (6 hex digits, drawn once): every orderRef and OCA group carries it, so two
    icbot installations on one IB account can tell their orders apart at the broker (docs/architecture.md)."""
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TRIGGER meta_never_delete BEFORE DELETE ON meta
            BEGIN SELECT RAISE(ABORT, 'meta is append-only: icbot never deletes rows'); END;
        CREATE TRIGGER meta_never_update BEFORE UPDATE ON meta
            BEGIN SELECT RAISE(ABORT, 'meta is append-only: rows are never changed'); END;
        """
    )
    db.execute("INSERT INTO meta (key, value) VALUES ('installation_id', ?)", [secrets.token_hex(3)])


@migrations()
def m004_whatif_bars(db: Database) -> None:
    """1-minute bars of a trade day's legs, of the strikes a what-if variant could move to, and of the index, for
    `icbot whatif` (docs/whatif.md). Tens of thousands of rows a year per contract, so no id column: the key is the
    primary key (WITHOUT ROWID), and the minute is `HH:MM` New York time of the bar's start (docs/storage.md)."""
    db.executescript(
        f"""
        CREATE TABLE bars (
            trade_date TEXT NOT NULL,
            mode       TEXT NOT NULL CHECK (mode IN {MODES_SQL}),
            contract   TEXT NOT NULL CHECK (contract <> ''),
            minute     TEXT NOT NULL CHECK (minute GLOB '[0-2][0-9]:[0-5][0-9]'),
            mid        REAL,
            bid        REAL,
            ask        REAL,
            high       REAL,
            low        REAL,
            PRIMARY KEY (trade_date, mode, contract, minute)
        ) WITHOUT ROWID;
        CREATE TRIGGER bars_never_delete BEFORE DELETE ON bars
            BEGIN SELECT RAISE(ABORT, 'bars is append-only: icbot never deletes rows'); END;
        CREATE TRIGGER bars_never_update BEFORE UPDATE ON bars
            BEGIN SELECT RAISE(ABORT, 'bars is append-only: rows are never changed'); END;
        """
    )


def known_migration_names() -> list[str]:
    """Names this icbot knows, in order; a database with others was written by a newer icbot."""
    return [m.name for m in migrations._migrations]
