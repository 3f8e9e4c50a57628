"""The seed's streaming_example.py, written as its description says (../shared/seed), as the baseline
`make bench` compares the toolkit with: a Spark session with the Kafka package, a subscription to the
topic, from_json with the seed's schema, the required fields checked, and foreachBatch building one
INSERT ... VALUES statement per batch that is POSTed to ClickHouse's HTTP API, with a log line per batch.

The one change a benchmark needs: trigger(availableNow=True), so that the job reads what the topic holds
when it starts and stops once that is written, instead of running forever. Everything else is the seed's
design, including its costs (rows collected to the driver as dicts, SQL text built in Python): those are
what a team migrating from it pays today.

Run through scripts/spark.sh run (pyspark and the connector's jars from the cache):
    scripts/spark.sh run --bootstrap 127.0.0.1:9092 --topic sensor_metrics --table spark_metrics \
        --checkpoint /tmp/ckpt
ClickHouse from CLICKHOUSE_URL (default http://127.0.0.1:8123), CLICKHOUSE_USER and CLICKHOUSE_PASSWORD,
the variables ch-insert reads. The password is sent in a header and never logged.
Exit status: 0 when every batch was written, 1 when a batch failed (after it was logged), 2 on usage.
"""

import argparse
import datetime
import logging
import os
import sys
import time
import urllib.error
import urllib.request

# Before Spark's imports: the JVM's start is part of what the job costs, and is reported apart.
T_START = time.time()

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql.functions import col, from_json  # noqa: E402
from pyspark.sql.types import DoubleType, StringType, StructField, StructType  # noqa: E402

log = logging.getLogger("seed_spark")

# The seed's message: {"id", "timestamp", "value": {"sensor_id", "temperature", "humidity", "pressure"}}
SCHEMA = StructType([
    StructField("id", StringType()),
    StructField("timestamp", StringType()),
    StructField("value", StructType([
        StructField("sensor_id", StringType()),
        StructField("temperature", DoubleType()),
        StructField("humidity", DoubleType()),
        StructField("pressure", DoubleType()),
    ])),
])
# The row's fields, in the order of the table's columns (id, ts, sensor_id, temperature, humidity, pressure).
REQUIRED_FIELDS = ("id", "timestamp", "sensor_id", "temperature", "humidity", "pressure")


def sql_string(s):
    """A ClickHouse string literal: backslash and quote escaped."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def clickhouse_datetime(ts):
    """'2025-07-07T22:00:00Z' -> '2025-07-07 22:00:00' (UTC, whole seconds), as the seed's example shows."""
    t = datetime.datetime.fromisoformat(ts)
    if t.tzinfo is not None:
        t = t.astimezone(datetime.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S")


def format_row(record):
    """One record's VALUES tuple. A missing required field raises KeyError (the seed's documented error), a
    timestamp that is not ISO 8601 ValueError."""
    for field in REQUIRED_FIELDS:
        if record.get(field) is None:
            raise KeyError(field)
    return "(%s, %s, %s, %r, %r, %r)" % (
        sql_string(record["id"]), sql_string(clickhouse_datetime(record["timestamp"])),
        sql_string(record["sensor_id"]), float(record["temperature"]), float(record["humidity"]),
        float(record["pressure"]))


def format_clickhouse_insert(data, table):
    """The seed's format_clickhouse_insert: takes a list of dicts, checks the required fields and builds
    INSERT INTO table VALUES (...), (...). Returns the statement (None when no record is valid) and the
    invalid records with the reason, which the caller logs."""
    values, invalid = [], []
    for record in data:
        try:
            values.append(format_row(record))
        except (KeyError, ValueError, TypeError) as e:
            invalid.append((record, "%s: %s" % (type(e).__name__, e)))
    if not values:
        return None, invalid
    return "INSERT INTO %s VALUES\n%s" % (table, ",\n".join(values)), invalid


def post_to_clickhouse(sql, args):
    req = urllib.request.Request(args.clickhouse_url.rstrip("/") + "/", data=sql.encode("utf-8"), method="POST")
    req.add_header("X-ClickHouse-User", os.environ.get("CLICKHOUSE_USER", "default"))
    password = os.environ.get("CLICKHOUSE_PASSWORD", "")
    if password:
        req.add_header("X-ClickHouse-Key", password)
    with urllib.request.urlopen(req, timeout=args.timeout) as resp:
        resp.read()


def make_batch_writer(args, stats):
    def write_to_clickhouse(batch_df, batch_id):
        """The seed's write_to_clickhouse: count, convert to dicts, validate, build, send, log."""
        t0 = time.time()
        # as the seed: count() and then collect(), each a Spark job over the batch (Kafka read twice)
        count = batch_df.count()
        if count == 0:
            log.info("batch %d: empty", batch_id)
            return
        rows = [r.asDict() for r in batch_df.collect()]
        sql, invalid = format_clickhouse_insert(rows, args.table)
        for record, why in invalid:
            log.warning("batch %d: invalid record %r: %s", batch_id, record.get("id"), why)
        stats["invalid"] += len(invalid)
        if sql is None:
            log.info("batch %d: %d records, none valid", batch_id, count)
            return
        valid = count - len(invalid)
        try:
            post_to_clickhouse(sql, args)
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")[:500]
            log.error("batch %d: ClickHouse answered %d: %s", batch_id, e.code, detail)
            raise
        except (urllib.error.URLError, OSError) as e:  # connection refused, timeout
            log.error("batch %d: could not reach ClickHouse: %s", batch_id, e)
            raise
        stats["rows"] += valid
        stats["batches"] += 1
        log.info("batch %d: %d records, %d rows written in %.2f s (%d KiB of SQL)",
                 batch_id, count, valid, time.time() - t0, len(sql) // 1024)
    return write_to_clickhouse


def create_spark_session(args):
    """The seed's create_spark_session: the Kafka source on the class path, the app's name."""
    builder = (SparkSession.builder.appName("SensorMetricsStreaming").master(args.master)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC"))
    jars = os.environ.get("SPARK_KAFKA_JARS")
    # The seed asks for the package (spark.jars.packages, resolved from Maven Central at every start);
    # scripts/spark.sh fetched the same artifacts once, so that a benchmark run downloads nothing.
    if jars:
        builder = builder.config("spark.jars", jars)
    else:
        builder = builder.config("spark.jars.packages",
                                 "org.apache.spark:spark-sql-kafka-0-10_2.13:" + args.spark_version)
    try:
        spark = builder.getOrCreate()
    except Exception:
        log.exception("could not create the Spark session")
        raise
    spark.sparkContext.setLogLevel("WARN")
    return spark


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers (host:port[,...])")
    p.add_argument("--topic", default="sensor_metrics")
    p.add_argument("--table", default="sensor_metrics",
                   help="ClickHouse table (id, ts, sensor_id, temperature, humidity, pressure)")
    p.add_argument("--checkpoint", required=True, help="the query's checkpoint directory (its offsets)")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--starting-offsets", default="earliest")
    p.add_argument("--max-offsets-per-trigger", type=int, default=0,
                   help="records per batch (default 0: no limit, as the seed; every record in one batch)")
    p.add_argument("--clickhouse-url", default=os.environ.get("CLICKHOUSE_URL", "http://127.0.0.1:8123"))
    p.add_argument("--timeout", type=float, default=300, help="seconds for one POST")
    p.add_argument("--spark-version", default=os.environ.get("SPARK_VERSION", "4.2.0"))
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its per-call lines are not the job's log
    spark = create_spark_session(args)
    # Machine-readable for scripts/bench/seed_spark.sh: Spark's own start-up (interpreter, JVM, session).
    log.info("session ready: startup_s=%.3f ready_epoch=%.3f", time.time() - T_START, time.time())
    reader = (spark.readStream.format("kafka")
              .option("kafka.bootstrap.servers", args.bootstrap)
              .option("subscribe", args.topic)
              .option("startingOffsets", args.starting_offsets)
              .option("failOnDataLoss", "true"))
    if args.max_offsets_per_trigger > 0:
        reader = reader.option("maxOffsetsPerTrigger", args.max_offsets_per_trigger)
    parsed = (reader.load()
              .select(from_json(col("value").cast("string"), SCHEMA).alias("m"))
              .select(col("m.id").alias("id"), col("m.timestamp").alias("timestamp"),
                      col("m.value.sensor_id").alias("sensor_id"), col("m.value.temperature").alias("temperature"),
                      col("m.value.humidity").alias("humidity"), col("m.value.pressure").alias("pressure")))
    stats = {"rows": 0, "batches": 0, "invalid": 0}
    query = (parsed.writeStream.foreachBatch(make_batch_writer(args, stats))
             .option("checkpointLocation", args.checkpoint)
             .trigger(availableNow=True)
             .start())
    try:
        query.awaitTermination()
    except Exception as e:  # a batch failed: already logged by the writer, or Kafka failed
        log.error("the streaming query failed: %s", str(e).splitlines()[0] if str(e) else type(e).__name__)
        spark.stop()
        return 1
    log.info("done: %d rows in %d batches, %d invalid records, %.2f s in all",
             stats["rows"], stats["batches"], stats["invalid"], time.time() - T_START)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
