"""Airflow 3 DAGs for sensor-pipeline: the seed's orchestration, done by the tools.

Copy this file into the DAGs folder. Two DAGs:

sensor_backfill_hourly  at minute 5 of every hour, loads the hour before from the S3 raw archive into
    ClickHouse, as examples/hourly-backfill.cron does from cron:
      wait_for_archive  a sensor: `s3-cat --list --hour HOUR TEMPLATE` until the hour has objects
      load              examples/backfill-hour.sh HOUR: s3-cat --hour | sensor-parse --rejects | ch-insert --rejects
      reconcile         every row the archive's hour holds (its lines that parse) is in ClickHouse, or the
                        task fails naming how many are missing
sensor_storage_report   every hour, the archive's storage usage: `s3-cat --summarize` (objects, bytes),
    in the task log and as node_exporter metrics.

The hour is the data interval's: the run fired at 23:05 has the interval 22:00-23:05 and loads hour 22
(UTC, the archiving clock: the objects s3-put opened from 22:00 to 22:59). Minute 5, as in the cron line:
with `s3-put --rotate-seconds 60` the hour's last object is stored by then.

Reruns are idempotent (clear a run, or `airflow backfill create` for past hours): a rerun reads the same
objects and inserts the same rows again, plus any object stored after the first run, and the table's
ReplacingMergeTree key (sensor_id, ts, id; what `ch-insert --create-table` makes) collapses the
duplicates. Count with FINAL (or GROUP BY the key): a rerun adds no rows under FINAL; without FINAL the
duplicates are visible until ClickHouse merges them. A rerun after reconcile failed is the fix for a gap.

Settings (Airflow Variables, all optional; AIRFLOW_VAR_<NAME> in the environment works too):
  sensor_archive         the archive's key template, exactly as s3-put writes with it
                         (default: the README's s3://raw/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl)
  sensor_table           the ClickHouse table (sensor_metrics)
  sensor_table_key       its key columns, for reconcile (sensor_id, ts, id)
  sensor_prefix          where the tools are installed (/usr: the .deb; /usr/local after make install):
                         PREFIX/bin and PREFIX/share/sensor-pipeline/examples/backfill-hour.sh
  sensor_state_dir       rejects files and the last load's messages (/var/lib/sensor-pipeline)
  sensor_metrics_dir     node_exporter textfile directory (/var/lib/node_exporter/textfile)
  sensor_backfill_lock   the lock backfill-hour.sh takes (/run/lock/sensor-backfill.lock, shared with cron)
  sensor_pipeline_config the tools' config file (SENSOR_PIPELINE_CONFIG), if the servers are set there
Connections (optional: without them the tools read the worker's environment and config file):
  sensor_s3          (type aws) login = access key id, password = secret access key, extra
                     {"endpoint_url": "http://minio:9000", "region_name": "us-east-1"}
  sensor_clickhouse  (type http) host, port (8123), schema = http or https, login, password,
                     extra {"database": "default"}
Secrets reach the tools as environment variables, never on a command line; Airflow masks connection
passwords in task logs and rendered templates.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.sensors.bash import BashSensor
from airflow.sdk import DAG, Connection, Variable, task
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException
from airflow.timetables.trigger import CronTriggerTimetable

README_ARCHIVE = "s3://raw/sensors/%Y/%m/%d/%H%M%S-{host}-{run}-{seq}.jsonl"
# The tools' own settings that pass from the worker's environment when no connection sets them.
TOOL_VARS = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL",
    "AWS_PROFILE", "AWS_CA_BUNDLE", "CLICKHOUSE_URL", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD",
    "CLICKHOUSE_PASSWORD_FILE", "CLICKHOUSE_DATABASE", "SENSOR_PIPELINE_CONFIG", "SENSOR_SCHEMA",
    "HOME", "LANG", "LC_ALL", "TZ",
)


def archive_hour(when: pendulum.DateTime) -> str:
    """The archive hour (s3-cat --hour) a data interval starts in."""
    return pendulum.instance(when).in_timezone("UTC").strftime("%Y-%m-%dT%H")


def archive_root(template: str) -> str:
    """The fixed part of a key template: s3://raw/sensors/%Y/... -> s3://raw/sensors/."""
    fixed = re.split(r"[%{]", template, maxsplit=1)[0]
    return fixed[: fixed.rfind("/") + 1]


def _connection(conn_id: str):
    if not conn_id:
        return None
    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def _clickhouse_url(conn) -> str:
    host = conn.host or "localhost"
    if "://" not in host:
        host = f"{conn.schema or 'http'}://{host}"
    return f"{host}:{conn.port}" if conn.port else host


def tool_env() -> dict[str, str]:
    """The environment the tools run with: the Variables above, then the connections' settings."""
    prefix = Variable.get("sensor_prefix", default="/usr")
    env = {k: os.environ[k] for k in TOOL_VARS if os.environ.get(k)}
    env.update(
        PATH=f"{prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        SENSOR_PREFIX=prefix,
        BACKFILL_ARCHIVE=Variable.get("sensor_archive", default=README_ARCHIVE),
        BACKFILL_TABLE=Variable.get("sensor_table", default="sensor_metrics"),
        BACKFILL_STATE_DIR=Variable.get("sensor_state_dir", default="/var/lib/sensor-pipeline"),
        BACKFILL_METRICS_DIR=Variable.get("sensor_metrics_dir", default="/var/lib/node_exporter/textfile"),
        BACKFILL_LOCK=Variable.get("sensor_backfill_lock", default="/run/lock/sensor-backfill.lock"),
        SENSOR_PIPELINE_CONFIG=Variable.get("sensor_pipeline_config", default=env.get("SENSOR_PIPELINE_CONFIG", "")),
    )
    env["SENSOR_ARCHIVE_ROOT"] = archive_root(env["BACKFILL_ARCHIVE"])
    s3 = _connection(Variable.get("sensor_s3_conn_id", default="sensor_s3"))
    if s3 is not None:
        extra = s3.extra_dejson
        env.update(
            AWS_ACCESS_KEY_ID=s3.login or "",
            AWS_SECRET_ACCESS_KEY=s3.password or "",
            AWS_SESSION_TOKEN=extra.get("aws_session_token", ""),
            AWS_ENDPOINT_URL=extra.get("endpoint_url", env.get("AWS_ENDPOINT_URL", "")),
            AWS_REGION=extra.get("region_name", env.get("AWS_REGION", "")),
        )
    ch = _connection(Variable.get("sensor_clickhouse_conn_id", default="sensor_clickhouse"))
    if ch is not None:
        env.update(
            CLICKHOUSE_URL=_clickhouse_url(ch),
            CLICKHOUSE_USER=ch.login or "",
            CLICKHOUSE_PASSWORD=ch.password or "",
            CLICKHOUSE_DATABASE=ch.extra_dejson.get("database", ""),
        )
    return {k: v for k, v in env.items() if v}


# Retries wait Airflow's [core] default_task_retry_delay (300 s unless the deployment sets it).
default_args = {
    "owner": "sensor-pipeline",
    "retries": 2,
    "execution_timeout": timedelta(hours=1),
}
# env="{{ tool_env() }}" renders to a dict: templates render to Python objects in these DAGs.
template_settings = {
    "user_defined_macros": {"tool_env": tool_env},
    "user_defined_filters": {"archive_hour": archive_hour},
    "render_template_as_native_obj": True,
}

with DAG(
    dag_id="sensor_backfill_hourly",
    description="Load the previous hour of the S3 raw archive into ClickHouse, then reconcile the counts",
    schedule=CronTriggerTimetable("5 * * * *", timezone="UTC", interval=timedelta(hours=1, minutes=5)),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,  # past hours: airflow backfill create --dag-id sensor_backfill_hourly --from-date ...
    max_active_runs=1,  # one hour at a time, oldest first (backfill-hour.sh's lock also keeps cron out)
    default_args=default_args,
    tags=["sensor-pipeline"],
    doc_md=__doc__,
    **template_settings,
) as backfill:
    HOUR = "{{ data_interval_start | archive_hour }}"

    # Exit 99: nothing stored for the hour yet, or S3 unavailable for now (s3-cat's 69, 75): poke again.
    # Any other failure of s3-cat (no bucket, credentials refused: its message above) fails the sensor at
    # once instead of waiting for the timeout. An hour that never gets an object fails after `timeout`
    # (the cron script counts it a success).
    wait_for_archive = BashSensor(
        task_id="wait_for_archive",
        bash_command=(
            f'objects=$(s3-cat --list --hour "{HOUR}" "$BACKFILL_ARCHIVE") || {{ rc=$?\n'
            '  case $rc in 69 | 75) echo "S3 unavailable (exit $rc): poking again later"; exit 99 ;; esac\n'
            '  exit $rc\n}\n'
            f'[ -n "$objects" ] || {{ echo "no object of hour {HOUR} stored yet"; exit 99; }}\n'
            f'echo "hour {HOUR}: $(wc -l <<<"$objects") objects stored"\n'
        ),
        env="{{ tool_env() }}",
        retry_exit_code=99,
        mode="reschedule",
        poke_interval=60,
        timeout=timedelta(hours=2).total_seconds(),
    )

    # backfill-hour.sh prints the stages' messages only when one fails (for cron): on success the task
    # log shows them from the file it keeps. A failing stage fails the task with its exit status.
    load = BashOperator(
        task_id="load",
        bash_command=(
            f'"$SENSOR_PREFIX/share/sensor-pipeline/examples/backfill-hour.sh" "{HOUR}" '
            '&& cat "$BACKFILL_STATE_DIR/backfill-last.log"'
        ),
        env="{{ tool_env() }}",
        append_env=True,
        skip_on_exit_code=None,  # every non-zero exit is a failure (the tools never exit 99, but say so)
    )

    @task(retries=0)
    def reconcile(data_interval_start=None) -> dict[str, int]:
        """Every key the hour's archived rows have is in ClickHouse; fails loudly otherwise."""
        hour = archive_hour(data_interval_start)
        env = tool_env()
        table = env["BACKFILL_TABLE"]
        key = Variable.get("sensor_table_key", default="sensor_id, ts, id")
        ident = r"[A-Za-z_][A-Za-z0-9_]*"
        if not re.fullmatch(ident, table) or not re.fullmatch(rf"{ident}(\s*,\s*{ident})*", key):
            raise AirflowFailException(f"sensor_table {table!r} / sensor_table_key {key!r}: names only")
        with tempfile.TemporaryDirectory(prefix="sensor-reconcile") as tmp:
            rows = Path(tmp, "archive.jsonl")
            read = subprocess.run(
                ["bash", "-c",
                 'set -o pipefail; s3-cat -q --hour "$1" "$BACKFILL_ARCHIVE" '
                 '| sensor-parse -q --rejects "$2/rejects.jsonl" >"$2/rows.jsonl"',
                 "reconcile", hour, tmp],
                env=env, capture_output=True, text=True, check=False,
            )
            if read.returncode != 0:
                raise AirflowFailException(
                    f"reading hour {hour} of the archive failed (exit {read.returncode}):\n{read.stderr}")
            # sensor-parse leaves an ack marker (coordinates only) where it rejected an envelope: no row
            with Path(tmp, "rows.jsonl").open("rb") as src, rows.open("wb") as dst:
                dst.writelines(line for line in src if not line.startswith(b'{"_topic"'))
            archived, found, missing = _count_in_clickhouse(env, table, key, rows)
        if archived != found:
            raise AirflowFailException(
                f"hour {hour}: {archived - found} of {archived} archived rows are not in ClickHouse table "
                f"{table} (keys {key}; for example: {missing}). Clear this run's load task to load the hour "
                "again (idempotent), then look at its rejects files if rows are still missing."
            )
        print(f"hour {hour}: all {archived} archived rows are in ClickHouse table {table}")
        return {"archived": archived, "found": found}

    wait_for_archive >> load >> reconcile()


def _count_in_clickhouse(env: dict[str, str], table: str, key: str, rows: Path) -> tuple[int, int, str]:
    """Sends the archive's rows as external data (table `archive`) and counts their keys in `table`."""
    import requests  # comes with Airflow

    url = env.get("CLICKHOUSE_URL")
    if not url:
        raise AirflowFailException("no ClickHouse URL: set the sensor_clickhouse connection or CLICKHOUSE_URL")
    password = env.get("CLICKHOUSE_PASSWORD")
    if not password and env.get("CLICKHOUSE_PASSWORD_FILE"):
        password = Path(env["CLICKHOUSE_PASSWORD_FILE"]).read_text().strip()
    auth = (env.get("CLICKHOUSE_USER", "default"), password or "")

    def query(sql: str, external: bool) -> str:
        params = {"query": sql}
        if env.get("CLICKHOUSE_DATABASE"):
            params["database"] = env["CLICKHOUSE_DATABASE"]
        files = None
        if external:
            params.update(archive_format="JSONEachRow", archive_structure=structure)
            files = {"archive": rows.open("rb")}
        try:
            r = requests.post(url.rstrip("/") + "/", params=params, files=files, auth=auth, timeout=600)
        finally:
            if files:
                files["archive"].close()
        if r.status_code != 200:
            raise AirflowFailException(f"ClickHouse answered {r.status_code}: {r.text.strip()[:2000]}")
        return r.text

    cols = [c.strip() for c in key.split(",")]
    types = dict(
        line.split("\t", 1)
        for line in query(
            f"SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '{table}' "
            "FORMAT TSV", external=False).splitlines()
    )
    if not all(c in types for c in cols):
        raise AirflowFailException(f"table {table} has no column(s) {[c for c in cols if c not in types]}")
    # every column of the table (sensor-parse writes the table's schema) and the Kafka coordinates of an
    # archived envelope: ClickHouse 18.16 does not skip unknown fields of external data
    coordinates = {"_topic": "String", "_partition": "Int32", "_offset": "Int64"}
    structure = ", ".join(f"{name} {type_}" for name, type_ in {**types, **coordinates}.items())
    k = ", ".join(cols)
    in_table = f"SELECT {k} FROM {table} WHERE ({k}) IN (SELECT {k} FROM archive)"
    archived, found = map(int, query(
        f"SELECT (SELECT uniqExact({k}) FROM archive), (SELECT count() FROM (SELECT DISTINCT {k} FROM ({in_table}))) "
        "FORMAT TSV", external=True).split())
    missing = ""
    if archived != found:
        missing = query(f"SELECT {k} FROM archive WHERE ({k}) NOT IN ({in_table}) LIMIT 3 FORMAT TSV",
                        external=True).strip().replace("\n", "; ")
    return archived, found, missing


with DAG(
    dag_id="sensor_storage_report",
    description="Storage usage of the S3 raw archive (s3-cat --summarize)",
    schedule="20 * * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["sensor-pipeline"],
    **template_settings,
) as storage_report:
    # Objects and bytes under the archive's fixed prefix: the task log (and its XCom) has the report,
    # node_exporter the gauges sensor_s3_prefix_objects and sensor_s3_prefix_bytes.
    BashOperator(
        task_id="summarize",
        bash_command=(
            's3-cat --summarize --metrics-file "$BACKFILL_METRICS_DIR/sensor_s3_usage.prom" "$SENSOR_ARCHIVE_ROOT"'
        ),
        env="{{ tool_env() }}",
        append_env=True,
        skip_on_exit_code=None,
    )
