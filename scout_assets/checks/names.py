"""Check names and their thresholds, in one place so a rename or a retuning is one diff."""

from decimal import Decimal

# Bronze: judged per ingestion batch (the latest batch that loaded files).
EXACT_DUPLICATE_FILES = "exact_duplicate_file_rate"
QUARANTINE_RATE = "quarantine_rate"
UNPLACED_TRANSACTIONS = "unplaced_transactions"
BRONZE_KEYS_UNIQUE = "bronze_keys_unique"  # the keys bronze holds by construction, not by index
SUPPLEMENTS_VALID = "supplements_valid"  # per supplement workbook, when a new version arrives


def unique_key_check(key: tuple[str, ...]) -> str:
    """The blocking check proving a model's declared key (models.py) is held once."""
    return "unique_" + "_".join(key).lower()


# Silver transactions: judged per month while the months are written.
UNIQUE_TRANSACTIONS = unique_key_check(("canonical_tx_id",))
BUSINESS_DUPLICATES = "business_duplicate_rate"
CONFLICTING_VERSIONS = "conflicting_version_rate"
QUALITY_TIER = "quality_tier"
RECONCILES_WITH_BRONZE = "reconciles_with_bronze"
KNOWN_STORES = "stores_exist"
ROW_COUNT_ANOMALY = "row_count_anomaly"
DATA_FRESHNESS = "data_freshness"

# Silver items: judged per month while the months are written.
BRAND_DETECTION = "brand_detection_rate"
CATEGORIZATION = "categorization_rate"
KNOWN_CATEGORIES = "categories_exist"

# Gold and platinum: reconciliation per month, judged while the months are written.
FLAT_RECONCILES = "reconciles_with_transactions"
NIELSEN_RECONCILES = "reconciles_with_flat_production"
XTAB_RECONCILES = "reconciles_with_nielsen_analytics"
XTAB_SHARES_AND_RANKS = "shares_sum_to_100_and_ranks_dense"

# Every served object.
SCHEMA = "schema_matches_ddl"

# Judged outside asset checks and recorded in audit.CheckResults too.
RUN_FAILURE = "run_failure"
FRESHNESS_POLICY = "freshness_policy"
DOCTOR_PREFIX = "doctor."

# Thresholds, percent. Real-world input: ~50% of files are exact re-uploads (normal, so only
# reported), under 1% malformed, about 1% of transactions delivered twice as different payloads.
DUPLICATE_WARN, DUPLICATE_ERROR = 2.0, 5.0
# Below this many transactions (items) a month's rates are reported, not judged: 1 of 3 is not
# a 33% problem.
RATE_MIN_SAMPLE = 20
QUARANTINE_WARN, QUARANTINE_ERROR = 2.0, 5.0
QUARANTINE_MIN_RECORDS = 100  # a batch of a few files is too small for a rate to mean much
UNPLACED_WARN, UNPLACED_ERROR = 1.0, 5.0
UNKNOWN_STORE_WARN, UNKNOWN_STORE_ERROR = 0.0, 5.0
BRAND_DETECTION_WARN, BRAND_DETECTION_ERROR = 90.0, 80.0  # below
CATEGORIZATION_WARN, CATEGORIZATION_ERROR = 90.0, 80.0  # below
# Row-count anomaly: a month's transactions against the mean of up to 3 trailing months that
# have data (at least 2 needed). Outside [0.5, 2] x the baseline warns, outside [0.2, 5] errs.
ANOMALY_TRAILING_MONTHS = 3
ANOMALY_MIN_TRAILING = 2
ANOMALY_WARN_RATIO, ANOMALY_ERROR_RATIO = 2.0, 5.0
# Reconciliation: anything above half a centavo is a real difference; shares allow
# floating-point noise only (percentage points).
REVENUE_TOLERANCE = Decimal("0.005")
SHARE_TOLERANCE = 1e-6
