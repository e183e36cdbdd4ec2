from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = ROOT / ".local"
SUPABASE_DIR = ROOT / "supabase"
MIGRATIONS_DIR = SUPABASE_DIR / "migrations"
PGTAP_DIR = SUPABASE_DIR / "tests"
FUNCTIONS_DIR = SUPABASE_DIR / "functions"
SEED_FILE = SUPABASE_DIR / "seed.sql"
PLATFORM_DIR = Path(__file__).resolve().parent / "platform"
VENV_BIN = ROOT / ".venv" / "bin"
SUPABASE_CLI = ROOT / "node_modules" / ".bin" / "supabase"
