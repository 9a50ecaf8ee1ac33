/// A schema with every object kind the verifier covers, under names that need quoting
/// (mixed case, spaces, embedded quotes), and a few rows.
enum Fixture {
    static let schema = #"""
    SET client_min_messages = warning;
    CREATE EXTENSION citext;
    CREATE SCHEMA "Odd Schema";
    CREATE TYPE "Odd Schema"."Mood" AS ENUM ('sad', 'ok', 'happy');
    CREATE DOMAIN "Odd Schema".positive AS integer NOT NULL DEFAULT 1 CONSTRAINT "is positive" CHECK (VALUE > 0);
    CREATE TYPE "Odd Schema".pair AS (a integer, "B b" text);

    CREATE TABLE "Odd Schema"."My ""Quoted"" Table" (
      id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      "Mixed Case" text COLLATE "C" NOT NULL DEFAULT 'x',
      mood "Odd Schema"."Mood" DEFAULT 'ok',
      n "Odd Schema".positive,
      p "Odd Schema".pair,
      handle public.citext,
      doubled integer GENERATED ALWAYS AS (id * 2) STORED,
      price numeric(10,2) CONSTRAINT "price positive" CHECK (price >= 0),
      CONSTRAINT "uniq Mixed" UNIQUE ("Mixed Case")
    );
    CREATE INDEX "idx lower" ON "Odd Schema"."My ""Quoted"" Table" (lower("Mixed Case")) WHERE id > 0;

    CREATE TABLE "Odd Schema".child (
      ref integer REFERENCES "Odd Schema"."My ""Quoted"" Table" (id) ON DELETE CASCADE,
      note text
    );
    ALTER TABLE "Odd Schema".child ADD CONSTRAINT nv CHECK (note <> '') NOT VALID;
    CREATE TABLE "Odd Schema".wide (a integer, b text, c integer);
    CREATE TABLE "Odd Schema".excl (r int4range, EXCLUDE USING gist (r WITH &&));

    CREATE TABLE "Odd Schema".parted (k integer NOT NULL, v text) PARTITION BY RANGE (k);
    CREATE TABLE "Odd Schema"."parted 1" PARTITION OF "Odd Schema".parted FOR VALUES FROM (0) TO (100);
    CREATE TABLE "Odd Schema".parted_2 PARTITION OF "Odd Schema".parted FOR VALUES FROM (100) TO (200);
    CREATE TABLE "Odd Schema".inh_parent (a integer);
    CREATE TABLE "Odd Schema".inh_child (b integer) INHERITS ("Odd Schema".inh_parent);
    CREATE UNLOGGED TABLE "Odd Schema".cache (k text PRIMARY KEY);

    CREATE SEQUENCE "Odd Schema"."Seq One" START 5 INCREMENT 3;
    SELECT FROM nextval('"Odd Schema"."Seq One"') a, nextval('"Odd Schema"."Seq One"') b;

    CREATE VIEW "Odd Schema"."V iew" AS SELECT id, "Mixed Case" FROM "Odd Schema"."My ""Quoted"" Table";
    CREATE MATERIALIZED VIEW "Odd Schema".mv AS SELECT count(*) AS n FROM "Odd Schema".wide;
    CREATE MATERIALIZED VIEW "Odd Schema".mv_empty AS SELECT 1 AS x WITH NO DATA;

    CREATE FUNCTION "Odd Schema"."Add"(a integer, b integer DEFAULT 1) RETURNS integer
      LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
    CREATE FUNCTION "Odd Schema".twice(x integer) RETURNS integer LANGUAGE sql RETURN x * 2;
    CREATE PROCEDURE "Odd Schema".proc(x integer) LANGUAGE plpgsql AS $$ BEGIN PERFORM x; END $$;
    CREATE FUNCTION "Odd Schema".trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TRIGGER "Trig Ger" BEFORE INSERT ON "Odd Schema".child FOR EACH ROW EXECUTE FUNCTION "Odd Schema".trg();

    ALTER DEFAULT PRIVILEGES IN SCHEMA "Odd Schema" GRANT SELECT ON TABLES TO PUBLIC;
    ALTER TABLE "Odd Schema".child ENABLE ROW LEVEL SECURITY;
    CREATE POLICY "see all" ON "Odd Schema".child FOR SELECT USING (true);

    INSERT INTO "Odd Schema"."My ""Quoted"" Table" ("Mixed Case", n, p, handle, price)
      SELECT 'row ' || g, g, ROW(g, 'b')::"Odd Schema".pair, 'H' || g, g FROM generate_series(1, 30) g;
    INSERT INTO "Odd Schema".child (ref, note) SELECT g, 'n' FROM generate_series(1, 10) g;
    INSERT INTO "Odd Schema".wide SELECT g, 'b', g FROM generate_series(1, 20) g;
    INSERT INTO "Odd Schema".parted SELECT g, 'v' FROM generate_series(0, 149) g;
    INSERT INTO "Odd Schema".inh_parent VALUES (1), (2);
    INSERT INTO "Odd Schema".inh_child VALUES (3, 3);
    INSERT INTO "Odd Schema".cache SELECT 'k' || g FROM generate_series(1, 5) g;
    REFRESH MATERIALIZED VIEW "Odd Schema".mv;
    """#

    static let oddTable = #""Odd Schema"."My ""Quoted"" Table""#
}
