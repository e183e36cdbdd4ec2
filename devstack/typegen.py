"""The dashboard's `Database` type, generated from the migrated database (`make types`).

    .venv/bin/python -m devstack.typegen                 # a throwaway database, migrated; writes the file
    .venv/bin/python -m devstack.typegen --database-url URL --check   # exit 1 if the file is stale

`supabase gen types typescript` needs Docker (it runs postgres-meta in a container); this reads
pg_catalog of the real database instead and writes the same shape as that command, for the
schemas the dashboard uses (SCHEMAS): per schema, Tables (Row, Insert, Update, Relationships),
Views (Row, Relationships), Functions (Args, Returns), Enums and CompositeTypes, then the
helpers `Tables`, `TablesInsert`, `TablesUpdate`, `Enums`, `CompositeTypes` and `Constants`.
supabase-js takes it as `createClient<Database>(...)`.

The mapping follows postgres-meta's TypeScript template: columns sorted by name; a view's
columns are nullable; an insert may leave out nullable, defaulted and identity columns, and never
sets an identity GENERATED ALWAYS column; functions returning a trigger, or with unnamed
arguments (more than one), are left out; a function's `Returns` is its `returns table (...)`
columns, a relation's row, or the mapped type, as an array when it returns a set. Where it
differs: intervals, names and network addresses are `string` (PostgREST sends them as text),
and views list no relationships.

Deterministic: the same catalog gives the same bytes (everything is sorted), so a drift test can
compare the committed file with a fresh run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from devstack import cluster, database, paths

SCHEMAS = ("metrics", "public")
OUTPUT = paths.ROOT / "dashboard" / "src" / "lib" / "database.types.ts"
# What supabase-js assumes without it; the local gateway and hosted projects answer as PostgREST 12+.
POSTGREST_VERSION = "12"
HEADER = (
    "// Generated from the migrated database by `make types` (devstack/typegen.py): do not edit.\n"
    "// The same shape as `supabase gen types typescript --schema metrics --schema public`.\n"
)

_NUMBER = {"int2", "int4", "int8", "float4", "float8", "numeric", "oid"}
_STRING = {
    "bytea",
    "bpchar",
    "varchar",
    "date",
    "text",
    "citext",
    "time",
    "timetz",
    "timestamp",
    "timestamptz",
    "uuid",
    "vector",
    # Not in postgres-meta's list (it says `unknown`); PostgREST sends them as strings.
    "interval",
    "name",
    "char",
    "inet",
    "cidr",
    "macaddr",
}


_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def _key(name: str) -> str:
    """A property name as prettier writes it: bare when it is an identifier, quoted otherwise."""
    return name if _IDENTIFIER.match(name) else _key(name)


def _sort_key(name: str) -> str:
    """Names in the order JavaScript's localeCompare gives snake_case identifiers (punctuation
    before digits before letters)."""
    return name.lower().replace("_", " ")


@dataclass
class Column:
    name: str
    type_oid: int
    nullable: bool
    has_default: bool
    identity: str  # '' | 'a' (always) | 'd' (by default)
    generated: bool


@dataclass
class Relation:
    oid: int
    schema: str
    name: str
    kind: str  # r, p, f, v, m
    columns: list[Column] = field(default_factory=list)
    relationships: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PgType:
    oid: int
    schema: str
    name: str
    kind: str  # b, c, d, e, p, r, m
    element: int  # for arrays
    relid: int  # for composites: the relation
    base: int  # for domains
    enum_values: list[str] = field(default_factory=list)


@dataclass
class Argument:
    name: str
    type_oid: int
    mode: str  # i, o, b, v, t
    has_default: bool


@dataclass
class Function:
    schema: str
    name: str
    identity: str
    args: list[Argument]
    return_type: int
    returns_set: bool


@dataclass
class Catalog:
    relations: dict[int, Relation]
    types: dict[int, PgType]
    functions: list[Function]
    # Standalone composite types' attributes, by the type's relation id.
    composites: dict[int, list[Column]]


_RELATIONS = """
select c.oid::int, n.nspname, c.relname, c.relkind::text
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(schemas)s) and c.relkind in ('r', 'p', 'f', 'v', 'm') and not c.relispartition
"""

_COLUMNS = """
select a.attrelid::int, a.attname, a.atttypid::int, not a.attnotnull, a.atthasdef, a.attidentity::text,
       a.attgenerated <> ''
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(schemas)s) and c.relkind in ('r', 'p', 'f', 'v', 'm', 'c')
  and a.attnum > 0 and not a.attisdropped
"""

_FOREIGN_KEYS = """
select k.conname, k.conrelid::int, k.confrelid::int,
       array(select a.attname from unnest(k.conkey) with ordinality u(attnum, i)
             join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum order by u.i),
       array(select a.attname from unnest(k.confkey) with ordinality u(attnum, i)
             join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.attnum order by u.i),
       exists (select 1 from pg_index x
               where x.indrelid = k.conrelid and x.indisunique and x.indpred is null and x.indexprs is null
                 and (select array_agg(v order by v) from unnest(x.indkey::int2[]) v)
                     = (select array_agg(v order by v) from unnest(k.conkey) v))
from pg_constraint k
where k.contype = 'f'
"""

_TYPES = """
select t.oid::int, n.nspname, t.typname, t.typtype::text, t.typelem::int, t.typrelid::int, t.typbasetype::int,
       coalesce((select array_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid),
                '{}')
from pg_type t join pg_namespace n on n.oid = t.typnamespace
"""

_FUNCTIONS = """
select n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.pronargdefaults::int,
       coalesce(p.proallargtypes::int[], p.proargtypes::int[]), coalesce(p.proargmodes::text[], '{}'),
       coalesce(p.proargnames, '{}'), p.prorettype::int, p.proretset
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = any(%(schemas)s) and p.prokind = 'f'
  and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype)
  -- Functions an extension brought along are not the project's API.
  and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid
                  and d.deptype = 'e')
"""


def read_catalog(conn: psycopg.Connection[Any], schemas: Sequence[str] = SCHEMAS) -> Catalog:
    params = {"schemas": list(schemas)}
    relations = {
        oid: Relation(oid, schema, name, kind)
        for oid, schema, name, kind in conn.execute(_RELATIONS, params).fetchall()
    }
    composites: dict[int, list[Column]] = {}
    for relid, name, type_oid, nullable, has_default, identity, generated in conn.execute(_COLUMNS, params):
        column = Column(name, type_oid, nullable, has_default, identity, generated)
        if relid in relations:
            relations[relid].columns.append(column)
        else:
            composites.setdefault(relid, []).append(column)
    for name, relid, refid, columns, referenced, one_to_one in conn.execute(_FOREIGN_KEYS):
        rel, ref = relations.get(relid), relations.get(refid)
        if rel is None or ref is None or rel.schema != ref.schema:
            continue
        rel.relationships.append(
            {
                "foreignKeyName": name,
                "columns": list(columns),
                "isOneToOne": bool(one_to_one),
                "referencedRelation": ref.name,
                "referencedColumns": list(referenced),
            }
        )
    types = {
        row[0]: PgType(row[0], row[1], row[2], row[3], row[4], row[5], row[6], list(row[7]))
        for row in conn.execute(_TYPES)
    }
    functions = []
    for schema, name, identity, ndefaults, arg_types, modes, names, rettype, retset in conn.execute(_FUNCTIONS, params):
        modes = list(modes) or ["i"] * len(arg_types)
        names = list(names) + [""] * (len(arg_types) - len(names))
        # The last pronargdefaults input arguments have defaults.
        inputs = [i for i, m in enumerate(modes) if m in ("i", "b", "v")]
        defaulted = set(inputs[len(inputs) - ndefaults :]) if ndefaults else set()
        args = [Argument(names[i], arg_types[i], modes[i], i in defaulted) for i in range(len(arg_types))]
        functions.append(Function(schema, name, identity, args, rettype, retset))
    return Catalog(relations, types, functions, composites)


class _Writer:
    def __init__(self, catalog: Catalog, schemas: Sequence[str]) -> None:
        self.catalog = catalog
        self.schemas = sorted(schemas, key=_sort_key)
        self.lines: list[str] = []

    # ---- types ------------------------------------------------------------------------------
    def ts_type(self, oid: int) -> str:
        t = self.catalog.types.get(oid)
        if t is None:
            return "unknown"
        if t.kind == "d":
            return self.ts_type(t.base)
        name = t.name
        if name == "bool":
            return "boolean"
        if name in _NUMBER:
            return "number"
        if name in _STRING:
            return "string"
        if name in ("json", "jsonb"):
            return "Json"
        if name == "void":
            return "undefined"
        if name == "record":
            return "Record<string, unknown>"
        if name.startswith("_") and t.element:
            return f"({self.ts_type(t.element)})[]"
        exposed = t.schema in self.schemas
        if t.kind == "e":
            if exposed:
                return f'Database["{t.schema}"]["Enums"]["{t.name}"]'
            return " | ".join(json.dumps(v) for v in t.enum_values)
        if t.kind == "c":
            rel = self.catalog.relations.get(t.relid)
            if rel is None:
                return f'Database["{t.schema}"]["CompositeTypes"]["{t.name}"]' if exposed else "unknown"
            group = "Views" if rel.kind in ("v", "m") else "Tables"
            return f'Database["{rel.schema}"]["{group}"]["{rel.name}"]["Row"]'
        return "unknown"

    # ---- output -----------------------------------------------------------------------------
    def emit(self, indent: int, text: str) -> None:
        self.lines.append(("  " * indent + text).rstrip())

    def members(self, indent: int, name: str, entries: list[str]) -> None:
        """`name: { ...entries }`, or `name: { [_ in never]: never }` when there are none."""
        if not entries:
            self.emit(indent, f"{name}: {{")
            self.emit(indent + 1, "[_ in never]: never")
            self.emit(indent, "}")
            return
        self.emit(indent, f"{name}: {{")
        for entry in entries:
            for line in entry.split("\n"):
                self.emit(indent + 1, line)
        self.emit(indent, "}")

    def object_lines(self, fields: Iterable[str]) -> str:
        return "{\n" + "\n".join(f"  {f}" for f in fields) + "\n}"

    def union(self, key: str, variants: list[str], indent: int) -> str:
        one_line = f"{key}: {' | '.join(variants)}"
        if len(variants) < 2 or len("  " * indent) + len(one_line) <= 100:
            return one_line
        return f"{key}:\n" + "\n".join(f"  | {v}" for v in variants)

    def enums(self, schema: str) -> list[PgType]:
        found = (t for t in self.catalog.types.values() if t.schema == schema and t.kind == "e")
        return sorted(found, key=lambda t: _sort_key(t.name))

    def row(self, rel: Relation, *, view: bool) -> list[str]:
        cols = sorted(rel.columns, key=lambda c: _sort_key(c.name))
        return [f"{_key(c.name)}: {self.ts_type(c.type_oid)}{' | null' if c.nullable or view else ''}" for c in cols]

    def insert(self, rel: Relation) -> list[str]:
        out = []
        for c in sorted(rel.columns, key=lambda c: _sort_key(c.name)):
            if c.identity == "a":
                out.append(f"{_key(c.name)}?: never")
                continue
            optional = c.nullable or c.identity != "" or c.has_default or c.generated
            out.append(
                f"{_key(c.name)}{'?' if optional else ''}: {self.ts_type(c.type_oid)}{' | null' if c.nullable else ''}"
            )
        return out

    def update(self, rel: Relation) -> list[str]:
        out = []
        for c in sorted(rel.columns, key=lambda c: _sort_key(c.name)):
            if c.identity == "a":
                out.append(f"{_key(c.name)}?: never")
                continue
            out.append(f"{_key(c.name)}?: {self.ts_type(c.type_oid)}{' | null' if c.nullable else ''}")
        return out

    def relationships(self, rel: Relation) -> str:
        found = sorted(
            rel.relationships,
            key=lambda r: (r["foreignKeyName"], r["referencedRelation"], json.dumps(r["referencedColumns"])),
        )
        if not found:
            return "Relationships: []"
        items = []
        for r in found:
            items.append(
                "  {\n"
                f"    foreignKeyName: {json.dumps(r['foreignKeyName'])}\n"
                f"    columns: {json.dumps(r['columns'], separators=(', ', ': '))}\n"
                f"    isOneToOne: {'true' if r['isOneToOne'] else 'false'}\n"
                f"    referencedRelation: {json.dumps(r['referencedRelation'])}\n"
                f"    referencedColumns: {json.dumps(r['referencedColumns'], separators=(', ', ': '))}\n"
                "  },"
            )
        return "Relationships: [\n" + "\n".join(items) + "\n]"

    def function_entry(self, name: str, overloads: list[Function]) -> str:
        arg_variants = []
        for fn in overloads:
            inputs = [a for a in fn.args if a.mode == "i"]
            if not inputs:
                arg_variants.append("Record<PropertyKey, never>")
                continue
            fields = [f"{_key(a.name)}{'?' if a.has_default else ''}: {self.ts_type(a.type_oid)}" for a in inputs]
            arg_variants.append(self.object_lines(fields) if len(overloads) == 1 else "{ " + "; ".join(fields) + " }")
        first = overloads[0]
        table = [a for a in first.args if a.mode == "t"]
        if table:
            returns = self.object_lines(f"{_key(a.name)}: {self.ts_type(a.type_oid)}" for a in table)
        else:
            t = self.catalog.types.get(first.return_type)
            rel = self.catalog.relations.get(t.relid) if t is not None and t.kind == "c" else None
            if rel is not None:
                returns = self.object_lines(self.row(rel, view=False))
            else:
                returns = self.ts_type(first.return_type)
        if first.returns_set:
            returns += "[]"
        args = (
            f"Args: {arg_variants[0]}"
            if len(arg_variants) == 1
            else "Args:\n" + "\n".join("  | " + v for v in arg_variants)
        )
        return f"{_key(name)}: {{\n" + _indent(args) + "\n" + _indent(f"Returns: {returns}") + "\n}"

    def schema(self, schema: str) -> None:
        rels = sorted(
            (r for r in self.catalog.relations.values() if r.schema == schema), key=lambda r: _sort_key(r.name)
        )
        self.emit(1, f"{schema}: {{")
        tables = []
        for rel in (r for r in rels if r.kind in ("r", "p", "f")):
            body = [
                "Row: " + self.object_lines(self.row(rel, view=False)),
                "Insert: " + self.object_lines(self.insert(rel)),
                "Update: " + self.object_lines(self.update(rel)),
                self.relationships(rel),
            ]
            tables.append(f"{_key(rel.name)}: {{\n" + "\n".join(_indent(b) for b in body) + "\n}")
        self.members(2, "Tables", tables)
        views = []
        for rel in (r for r in rels if r.kind in ("v", "m")):
            body = ["Row: " + self.object_lines(self.row(rel, view=True)), "Relationships: []"]
            views.append(f"{_key(rel.name)}: {{\n" + "\n".join(_indent(b) for b in body) + "\n}")
        self.members(2, "Views", views)
        by_name: dict[str, list[Function]] = {}
        for fn in self.catalog.functions:
            if fn.schema != schema:
                continue
            named = [a for a in fn.args if a.mode in ("i", "b", "v")]
            if any(a.name == "" for a in named) and len(named) != 1:
                continue
            by_name.setdefault(fn.name, []).append(fn)
        functions = [
            self.function_entry(name, sorted(fns, key=lambda f: f.identity))
            for name, fns in sorted(by_name.items(), key=lambda kv: _sort_key(kv[0]))
        ]
        self.members(2, "Functions", functions)
        enums = self.enums(schema)
        self.members(2, "Enums", [self.union(_key(t.name), [json.dumps(v) for v in t.enum_values], 3) for t in enums])
        composites = sorted(
            (
                t
                for t in self.catalog.types.values()
                if t.schema == schema
                and t.kind == "c"
                and t.relid not in self.catalog.relations
                and t.relid in self.catalog.composites
            ),
            key=lambda t: _sort_key(t.name),
        )
        self.members(
            2,
            "CompositeTypes",
            [
                f"{_key(t.name)}: "
                + self.object_lines(
                    f"{_key(c.name)}: {self.ts_type(c.type_oid)} | null" for c in self.catalog.composites[t.relid]
                )
                for t in composites
            ],
        )
        self.emit(1, "}")

    def enums_constant(self, schema: str) -> list[str]:
        enums = self.enums(schema)
        if not enums:
            return [f"  {schema}: {{", "    Enums: {},", "  },"]
        out = [f"  {schema}: {{", "    Enums: {"]
        for t in enums:
            values = ", ".join(json.dumps(v) for v in t.enum_values)
            line = f"      {_key(t.name)}: [{values}],"
            if len(line) > 100:
                out.append(f"      {_key(t.name)}: [")
                out.extend(f"        {json.dumps(v)}," for v in t.enum_values)
                out.append("      ],")
            else:
                out.append(line)
        out += ["    },", "  },"]
        return out

    def render(self) -> str:
        self.lines = [
            *HEADER.rstrip("\n").split("\n"),
            "export type Json =",
            "  | string",
            "  | number",
            "  | boolean",
            "  | null",
            "  | { [key: string]: Json | undefined }",
            "  | Json[]",
            "",
            "export type Database = {",
            "  // Allows to automatically instantiate createClient with right options",
            "  // instead of createClient<Database, { PostgrestVersion: 'XX' }>(URL, KEY)",
            "  __InternalSupabase: {",
            f'    PostgrestVersion: "{POSTGREST_VERSION}"',
            "  }",
        ]
        for schema in self.schemas:
            self.schema(schema)
        self.lines.append("}")
        self.lines.append(_HELPERS.rstrip("\n"))
        self.lines.append("")
        self.lines.append("export const Constants = {")
        for schema in self.schemas:
            self.lines.extend(self.enums_constant(schema))
        self.lines.append("} as const")
        return "\n".join(self.lines) + "\n"


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line if line else line for line in text.split("\n"))


# The helper types `supabase gen types typescript` appends (DefaultSchema: public).
_HELPERS = """
type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never
"""


def generate(database_url: str, schemas: Sequence[str] = SCHEMAS) -> str:
    """The TypeScript text for the database at `database_url`."""
    with psycopg.connect(database_url) as conn:
        catalog = read_catalog(conn, schemas)
    return _Writer(catalog, schemas).render()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.typegen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a migrated database (default: a throwaway one, migrated now)")
    parser.add_argument("--out", type=Path, default=OUTPUT, help=f"default: {OUTPUT.relative_to(paths.ROOT)}")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if the file differs")
    args = parser.parse_args(argv)
    if args.database_url:
        text = generate(args.database_url)
    else:
        with cluster.throwaway_cluster() as pg:
            database.prepare(pg.url)
            text = generate(pg.url)
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is not what the migrations give: run make types", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    args.out.write_text(text)
    print(f"wrote {args.out.relative_to(paths.ROOT) if args.out.is_relative_to(paths.ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
