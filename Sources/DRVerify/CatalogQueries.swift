/// The catalog queries, one per object kind, each returning every object of its kind at once
/// (never one query per object; the relation-bound kinds run once per connection, each for the
/// relations dealt to that connection, and sequences once per batch — see `SnapshotWorkers`).
/// The first column, `name`, is the object's identity, quoted
/// by the server (`format('%I...')`) so that names compare exactly whatever their case,
/// quotes or spaces; every other column is a property, named by its alias.
///
/// Sessions run with an empty `search_path` (see `PGConnection.configureReader`), so the
/// server qualifies every non-catalog name it prints; internal numbering (oids, attnums,
/// catalog order) never reaches a property, so a dump-and-restore compares equal.
///
/// Property names are snake_case (manifest format 2). Owners and privileges are properties of
/// the objects they belong to: `owner` (the role, quoted), and `acl` — `default` when the
/// object has the default privileges of its kind and owner, else one `grantee: PRIVILEGE, ...`
/// entry per role in byte order, `WITH GRANT OPTION` where grantable, `PUBLIC` for everyone;
/// the grantor is left out (a dump-and-restore grants as the owner).
enum CatalogQueries {
    /// Schemas that hold user objects: not the system schemas, toast or temporary ones.
    static func userSchema(_ n: String) -> String {
        """
        \(n).nspname NOT IN ('pg_catalog', 'information_schema') \
        AND \(n).nspname NOT LIKE 'pg\\_toast%' AND \(n).nspname NOT LIKE 'pg\\_temp\\_%'
        """
    }

    /// Objects that an extension created belong to the extension, compared by its version.
    static func notFromExtension(_ catalog: String, _ oid: String) -> String {
        """
        NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep WHERE dep.classid = '\(catalog)'::regclass \
        AND dep.objid = \(oid) AND dep.deptype = 'e')
        """
    }

    /// A user relation `c` in namespace `n` of the given kinds.
    static func userRelation(kinds: String) -> String {
        "c.relkind IN (\(kinds)) AND \(userSchema("n")) AND \(notFromExtension("pg_class", "c.oid"))"
    }

    static let relationJoin = "pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"

    /// A role's name as a property value: `quote_ident`, `PUBLIC` for 0 (everyone).
    static func role(_ oid: String) -> String {
        "CASE WHEN \(oid) = 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(\(oid))) END"
    }

    /// An ACL (`aclitem[]` expression) as text: `grantee: PRIVILEGE, ...; ...` (see the type's
    /// documentation).
    static func acl(_ acl: String) -> String {
        """
        (SELECT string_agg(e, '; ' ORDER BY e COLLATE pg_catalog."C") FROM (
           SELECT \(role("x.grantee")) || ': ' ||
                  string_agg(x.privilege_type || CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END,
                             ', ' ORDER BY x.privilege_type COLLATE pg_catalog."C") AS e
           FROM pg_catalog.aclexplode(\(acl)) x GROUP BY x.grantee) acl)
        """
    }

    /// An object's privileges: `default` when they are the defaults for its kind and owner
    /// (the ACL is NULL, or granted back to just what the defaults give), else its ACL as text.
    /// Most objects keep the defaults; one word instead of the owner's full list keeps a manifest
    /// of 10,000 tables a tenth smaller.
    static func privileges(_ acl: String, defaultKind: String, owner: String) -> String {
        """
        CASE WHEN \(acl) IS NULL THEN 'default' ELSE (
          SELECT CASE WHEN given = defaults THEN 'default' ELSE given END
          FROM (SELECT \(Self.acl(acl)) AS given, \(Self.acl("pg_catalog.acldefault('\(defaultKind)', \(owner))")) AS defaults) p
        ) END
        """
    }

    /// The query of one kind. With `relationsIn`, a relation-bound kind's query reports only
    /// on the relations whose oids `$1` lists — relations `relations` listed in the same
    /// snapshot, so the schema and extension filters already hold for them and only the
    /// relation kinds are checked again (the `pg_depend` anti-join costs ~5 ms a query).
    static func sql(for kind: ObjectKind, relationsIn: Bool = false) -> String {
        func relation(kinds: String) -> String {
            relationsIn ? "c.relkind IN (\(kinds)) AND c.oid = ANY($1::pg_catalog.oid[])" : userRelation(kinds: kinds)
        }
        switch kind {
        case .schema:
            return """
                SELECT quote_ident(n.nspname) AS name, \(role("n.nspowner")) AS owner,
                  \(privileges("n.nspacl", defaultKind: "n", owner: "n.nspowner")) AS acl
                FROM pg_catalog.pg_namespace n
                WHERE \(userSchema("n")) AND \(notFromExtension("pg_namespace", "n.oid"))
                """
        case .extension:
            return """
                SELECT quote_ident(e.extname) AS name, e.extversion AS version, quote_ident(n.nspname) AS schema,
                  \(role("e.extowner")) AS owner
                FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
                """
        case .table:
            return """
                SELECT format('%I.%I', n.nspname, c.relname) AS name,
                  CASE WHEN c.relispartition AND c.relkind = 'p' THEN 'partitioned partition'
                       WHEN c.relispartition THEN 'partition'
                       WHEN c.relkind = 'p' THEN 'partitioned table'
                       WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) THEN 'inheritance child'
                       ELSE 'ordinary' END AS kind,
                  CASE c.relpersistence WHEN 'u' THEN 'unlogged' ELSE 'permanent' END AS persistence,
                  (SELECT string_agg(format('%I.%I', pn.nspname, p.relname), ', ' ORDER BY i.inhseqno)
                     FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
                     JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
                    WHERE i.inhrelid = c.oid) AS parent,
                  pg_get_expr(c.relpartbound, c.oid) AS partition_bound,
                  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
                  CASE WHEN c.relrowsecurity AND c.relforcerowsecurity THEN 'enabled, forced'
                       WHEN c.relrowsecurity THEN 'enabled'
                       WHEN c.relforcerowsecurity THEN 'disabled, forced' END AS row_security,
                  \(role("c.relowner")) AS owner,
                  \(privileges("c.relacl", defaultKind: "r", owner: "c.relowner")) AS acl
                FROM \(relationJoin) WHERE \(relation(kinds: "'r', 'p'"))
                """
        case .column:
            return """
                SELECT format('%I.%I.%I', n.nspname, c.relname, a.attname) AS name,
                  format('%I.%I', n.nspname, c.relname) AS "table",
                  format_type(a.atttypid, a.atttypmod) AS type,
                  CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END AS nullable,
                  CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS "default",
                  CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END AS identity,
                  CASE WHEN a.attgenerated = 's' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated,
                  CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
                    (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_catalog.pg_collation co
                       JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation)
                  END AS collation,
                  CASE WHEN a.attacl IS NOT NULL THEN \(acl("a.attacl")) END AS acl
                FROM pg_catalog.pg_attribute a JOIN \(relationJoin) ON c.oid = a.attrelid
                JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE a.attnum > 0 AND NOT a.attisdropped AND \(relation(kinds: "'r', 'p'"))
                """
        case .constraint:
            return """
                SELECT format('%I.%I.%I', n.nspname, c.relname, k.conname) AS name,
                  format('%I.%I', n.nspname, c.relname) AS "table",
                  CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check'
                    WHEN 'f' THEN 'foreign key' WHEN 'x' THEN 'exclusion' WHEN 't' THEN 'constraint trigger'
                    ELSE k.contype::text END AS type,
                  pg_get_constraintdef(k.oid) AS definition,
                  CASE WHEN k.convalidated THEN 'valid' ELSE 'not valid' END AS validity
                FROM pg_catalog.pg_constraint k JOIN \(relationJoin) ON c.oid = k.conrelid
                WHERE \(relation(kinds: "'r', 'p'"))
                """
        case .index:
            return """
                SELECT format('%I.%I', n.nspname, ic.relname) AS name,
                  format('%I.%I', n.nspname, c.relname) AS "table",
                  pg_get_indexdef(i.indexrelid) AS definition,
                  concat_ws(', ', CASE WHEN i.indisunique THEN 'unique' END,
                                  CASE WHEN i.indpred IS NOT NULL THEN 'partial' END,
                                  CASE WHEN i.indexprs IS NOT NULL THEN 'expression' END) AS features,
                  CASE WHEN i.indisvalid THEN 'valid' ELSE 'invalid' END AS validity
                FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                JOIN \(relationJoin) ON c.oid = i.indrelid
                WHERE \(relation(kinds: "'r', 'p', 'm'"))
                """
        case .sequence:
            return """
                SELECT format('%I.%I', n.nspname, c.relname) AS name,
                  format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start, s.seqincrement::text AS increment,
                  s.seqmin::text AS minimum, s.seqmax::text AS maximum, s.seqcache::text AS cache,
                  CASE WHEN s.seqcycle THEN 'cycle' ELSE 'no cycle' END AS cycle,
                  CASE c.relpersistence WHEN 'u' THEN 'unlogged' ELSE 'permanent' END AS persistence,
                  (SELECT format('%I.%I.%I', tn.nspname, t.relname, a.attname)
                     FROM pg_catalog.pg_depend dep JOIN pg_catalog.pg_class t ON t.oid = dep.refobjid
                     JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
                     JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = dep.refobjsubid
                    WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
                      AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')) AS owned_by,
                  CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE') THEN pg_sequence_last_value(c.oid)::text END
                    AS \(SequenceRule.lastValue),
                  \(role("c.relowner")) AS owner,
                  \(privileges("c.relacl", defaultKind: "s", owner: "c.relowner")) AS acl
                FROM pg_catalog.pg_sequence s JOIN \(relationJoin) ON c.oid = s.seqrelid
                WHERE \(relation(kinds: "'S'"))
                """
        case .view, .materializedView:
            return """
                SELECT format('%I.%I', n.nspname, c.relname) AS name,
                  pg_get_viewdef(c.oid) AS definition,
                  array_to_string(c.reloptions, ', ') AS options,
                  CASE WHEN c.relkind = 'm' THEN CASE WHEN c.relispopulated THEN 'populated' ELSE 'not populated' END END
                    AS populated,
                  \(role("c.relowner")) AS owner,
                  \(privileges("c.relacl", defaultKind: "r", owner: "c.relowner")) AS acl
                FROM \(relationJoin) WHERE \(userRelation(kinds: kind == .view ? "'v'" : "'m'"))
                """
        case .function:
            return """
                SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS name,
                  CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
                    WHEN 'w' THEN 'window function' END AS kind,
                  pg_get_function_arguments(p.oid) AS arguments,
                  pg_get_function_result(p.oid) AS result,
                  quote_ident(l.lanname) AS language,
                  CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END AS body,
                  concat_ws(', ', CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END,
                                  CASE WHEN p.proisstrict THEN 'strict' END,
                                  CASE WHEN p.prosecdef THEN 'security definer' END,
                                  CASE p.proparallel WHEN 's' THEN 'parallel safe' WHEN 'r' THEN 'parallel restricted' END,
                                  CASE WHEN p.proleakproof THEN 'leakproof' END) AS attributes,
                  array_to_string(p.proconfig, ', ') AS settings,
                  \(role("p.proowner")) AS owner,
                  \(privileges("p.proacl", defaultKind: "f", owner: "p.proowner")) AS acl
                FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                JOIN pg_catalog.pg_language l ON l.oid = p.prolang
                WHERE \(userSchema("n")) AND \(notFromExtension("pg_proc", "p.oid"))
                """
        case .trigger:
            return """
                SELECT format('%I.%I.%I', n.nspname, c.relname, t.tgname) AS name,
                  format('%I.%I', n.nspname, c.relname) AS "table",
                  pg_get_triggerdef(t.oid) AS definition,
                  CASE t.tgenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica'
                    WHEN 'A' THEN 'always' END AS enabled
                FROM pg_catalog.pg_trigger t JOIN \(relationJoin) ON c.oid = t.tgrelid
                WHERE NOT t.tgisinternal AND \(relation(kinds: "'r', 'p', 'v', 'm', 'f'"))
                """
        case .enum:
            return """
                SELECT format('%I.%I', n.nspname, t.typname) AS name,
                  (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)::text FROM pg_catalog.pg_enum e
                    WHERE e.enumtypid = t.oid) AS labels,
                  \(role("t.typowner")) AS owner,
                  \(privileges("t.typacl", defaultKind: "T", owner: "t.typowner")) AS acl
                FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                WHERE t.typtype = 'e' AND \(userSchema("n")) AND \(notFromExtension("pg_type", "t.oid"))
                """
        case .domain:
            return """
                SELECT format('%I.%I', n.nspname, t.typname) AS name,
                  format_type(t.typbasetype, t.typtypmod) AS base_type,
                  CASE WHEN t.typnotnull THEN 'not null' ELSE 'null' END AS nullable,
                  t.typdefault AS "default",
                  CASE WHEN t.typcollation <> 0 AND t.typcollation <> bt.typcollation THEN
                    (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_catalog.pg_collation co
                       JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation)
                  END AS collation,
                  (SELECT string_agg(format('%I %s', k.conname, pg_get_constraintdef(k.oid)), '; ' ORDER BY k.conname)
                     FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid) AS constraints,
                  \(role("t.typowner")) AS owner,
                  \(privileges("t.typacl", defaultKind: "T", owner: "t.typowner")) AS acl
                FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
                WHERE t.typtype = 'd' AND \(userSchema("n")) AND \(notFromExtension("pg_type", "t.oid"))
                """
        case .compositeType:
            return """
                SELECT format('%I.%I', n.nspname, t.typname) AS name,
                  (SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
                     FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
                    AS attributes,
                  \(role("t.typowner")) AS owner,
                  \(privileges("t.typacl", defaultKind: "T", owner: "t.typowner")) AS acl
                FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
                WHERE t.typtype = 'c' AND c.relkind = 'c' AND \(userSchema("n")) AND \(notFromExtension("pg_type", "t.oid"))
                """
        case .policy:
            return """
                SELECT format('%I.%I.%I', n.nspname, c.relname, p.polname) AS name,
                  format('%I.%I', n.nspname, c.relname) AS "table",
                  CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                    WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS command,
                  CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END AS mode,
                  (SELECT string_agg(x, ', ' ORDER BY x COLLATE pg_catalog."C") FROM (
                     SELECT CASE WHEN r = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r)) END AS x
                     FROM unnest(p.polroles) r) roles) AS roles,
                  pg_get_expr(p.polqual, p.polrelid) AS "using",
                  pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
                FROM pg_catalog.pg_policy p JOIN \(relationJoin) ON c.oid = p.polrelid
                WHERE \(relation(kinds: "'r', 'p'"))
                """
        case .defaultPrivileges:
            return """
                SELECT 'for role ' || quote_ident(pg_get_userbyid(d.defaclrole))
                         || CASE WHEN d.defaclnamespace <> 0 THEN ' in schema ' || quote_ident(n.nspname) ELSE '' END
                         || ' on ' || \(defaultObjectType) AS name,
                  quote_ident(pg_get_userbyid(d.defaclrole)) AS role,
                  CASE WHEN d.defaclnamespace <> 0 THEN quote_ident(n.nspname) END AS schema,
                  \(defaultObjectType) AS object_type,
                  \(acl("d.defaclacl")) AS privileges
                FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
                """
        case .role:
            // Every role; the capture keeps those the other objects name (owners, grantees,
            // policies, default privileges). Never a password or other attribute.
            return """
                SELECT quote_ident(r.rolname) AS name,
                  (SELECT string_agg(x, ', ' ORDER BY x COLLATE pg_catalog."C") FROM (
                     SELECT quote_ident(g.rolname) || CASE WHEN m.admin_option THEN ' WITH ADMIN OPTION' ELSE '' END AS x
                     FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                    WHERE m.member = r.oid) memberships) AS member_of
                FROM pg_catalog.pg_roles r
                """
        }
    }

    static let defaultObjectType = """
        CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
          WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' ELSE d.defaclobjtype::text END
        """

    /// The kinds whose objects belong to one relation (`c` in their query), read per connection
    /// for the relations that connection also counts: the catalog functions they call
    /// (`pg_get_indexdef`, `pg_get_expr`...) open each relation, and a connection that has
    /// already opened it to count its rows finds it in its relation cache.
    static let relationBound: [ObjectKind] = [.index, .column, .constraint, .table, .trigger, .policy]

    /// Sequences are read in the batches that count rows: `pg_sequence_last_value` locks each
    /// sequence it reads, so they share the batches' lock budget and transactions.
    static let batched: ObjectKind = .sequence

    /// Every user relation a relation-bound query can report on (tables, partitioned tables,
    /// materialized views, views, foreign tables) and every sequence, with what the row counter
    /// needs: unquoted names for libpq quoting; the size to balance the work (the planner's
    /// estimate, `relpages`: free to read, unlike a stat of every file, which would also lock
    /// each relation); how many relations counting it locks (its indexes, which the planner
    /// opens, and with contents its TOAST table and index); and a partition's parent. Only
    /// ordinary tables (`r`) hold rows of their own; partitioned parents hold none.
    static let relations = """
        SELECT c.oid::text, format('%I.%I', n.nspname, c.relname) AS name, n.nspname, c.relname,
               c.relpages::bigint * 8192 AS bytes, c.relkind::text,
               (SELECT count(*) FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid) AS indexes,
               c.reltoastrelid <> 0 AS toasted,
               CASE WHEN c.relispartition THEN (SELECT i.inhparent::text FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid) END
        FROM \(relationJoin) WHERE \(userRelation(kinds: "'r', 'p', 'm', 'v', 'f', 'S'"))
        ORDER BY bytes DESC, 2
        """

    /// Of the tables whose oids `$1` lists, those whose heap has no block (so no row).
    static let emptyTables = """
        SELECT t.oid::text FROM unnest($1::pg_catalog.oid[]) AS t(oid) WHERE pg_catalog.pg_relation_size(t.oid) = 0
        """

    /// The columns a row hash reads (see `RowHash`), for the tables whose oids `$1` lists.
    static let hashColumns = hashColumns(relation: "= ANY($1::pg_catalog.oid[])")
    /// The same, for one table named by `$1` (`schema.table`, quoted).
    static let hashColumnsOfNamed = hashColumns(relation: "= pg_catalog.to_regclass($1)")

    private static func hashColumns(relation: String) -> String {
        """
        SELECT a.attrelid::text, a.attname, a.attnotnull, a.atttypid::text, t.typcategory::text, t.typtype::text
        FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid \(relation) AND a.attnum > 0 AND NOT a.attisdropped
        """
    }

    /// Identity of the server: version and, where the role may read it, the cluster's system id.
    static let serverVersion = "SELECT current_setting('server_version'), current_database()"
    static let systemIdentifier = "SELECT system_identifier::text FROM pg_control_system()"
}
