#!/usr/bin/env bash
# Fetches Apache Iceberg's reference REST catalog server (RESTCatalogServer, the server behind
# the apache/iceberg-rest-fixture image) and prints the directory holding its jars; start it with
#   java -cp "$(tests/support/rest_catalog.sh)/*" org.apache.iceberg.rest.RESTCatalogServer
# Only Maven Central is needed (no Docker). Idempotent: a stamp holding the hash of the generated
# pom makes a second run a no-op. The jars live outside the clone, in
# ${ARROW_CACHE_REST_CATALOG_DIR:-~/.cache/arrow-cache/rest-catalog}.
set -euo pipefail

iceberg_version=1.10.0
cache="${ARROW_CACHE_REST_CATALOG_DIR:-$HOME/.cache/arrow-cache/rest-catalog}/$iceberg_version"
lib="$cache/lib"

# Maven Central publishes the server class only as a test-fixtures jar whose pom lists no
# dependencies (Gradle test fixtures), so this pom spells out what Iceberg's own build gives it
# (open-api/build.gradle at apache-iceberg-1.10.0; versions from gradle/libs.versions.toml),
# minus the AWS/GCP/Azure bundles: the tests use a file:// warehouse.
pom="$(cat <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.arrow-cache</groupId>
  <artifactId>rest-catalog-server</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.iceberg</groupId><artifactId>iceberg-open-api</artifactId>
      <version>$iceberg_version</version><classifier>test-fixtures</classifier>
    </dependency>
    <dependency>
      <groupId>org.apache.iceberg</groupId><artifactId>iceberg-core</artifactId>
      <version>$iceberg_version</version>
    </dependency>
    <!-- RESTCatalogAdapter and RESTCatalogServlet live in iceberg-core's test jar. -->
    <dependency>
      <groupId>org.apache.iceberg</groupId><artifactId>iceberg-core</artifactId>
      <version>$iceberg_version</version><classifier>tests</classifier>
    </dependency>
    <!-- The server builds its backend catalog with a Hadoop Configuration, and the JdbcCatalog
         writes metadata through HadoopFileIO; exclusions as in Iceberg's build. -->
    <dependency>
      <groupId>org.apache.hadoop</groupId><artifactId>hadoop-common</artifactId>
      <version>3.4.1</version>
      <exclusions>
        <exclusion><groupId>org.slf4j</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>ch.qos.reload4j</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.avro</groupId><artifactId>avro</artifactId></exclusion>
        <exclusion><groupId>com.google.guava</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.google.protobuf</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.curator</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.zookeeper</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.kerby</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.hadoop.thirdparty</groupId><artifactId>hadoop-shaded-protobuf_3_7</artifactId></exclusion>
        <exclusion><groupId>org.eclipse.jetty</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.google.re2j</groupId><artifactId>re2j</artifactId></exclusion>
        <exclusion><groupId>com.google.code.gson</groupId><artifactId>gson</artifactId></exclusion>
        <exclusion><groupId>com.jcraft</groupId><artifactId>jsch</artifactId></exclusion>
        <exclusion><groupId>com.google.code.findbugs</groupId><artifactId>jsr305</artifactId></exclusion>
        <exclusion><groupId>io.dropwizard.metrics</groupId><artifactId>metrics-core</artifactId></exclusion>
        <exclusion><groupId>dnsjava</groupId><artifactId>dnsjava</artifactId></exclusion>
        <exclusion><groupId>org.xerial.snappy</groupId><artifactId>snappy-java</artifactId></exclusion>
        <exclusion><groupId>commons-cli</groupId><artifactId>commons-cli</artifactId></exclusion>
        <exclusion><groupId>com.github.pjfanning</groupId><artifactId>jersey-json</artifactId></exclusion>
      </exclusions>
    </dependency>
    <dependency>
      <groupId>org.eclipse.jetty</groupId><artifactId>jetty-servlet</artifactId><version>11.0.26</version>
    </dependency>
    <dependency>
      <groupId>org.eclipse.jetty</groupId><artifactId>jetty-server</artifactId><version>11.0.26</version>
    </dependency>
    <dependency>
      <groupId>org.xerial</groupId><artifactId>sqlite-jdbc</artifactId><version>3.50.3.0</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>2.0.17</version>
    </dependency>
  </dependencies>
</project>
EOF
)"

want="$(printf '%s' "$pom" | sha256sum | cut -d' ' -f1)"
stamp="$cache/.stamp"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$lib"
    exit 0
fi

# A fresh Debian machine has neither; root needs no sudo (and CI containers often lack it).
if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
    sudo=""; [[ "$(id -u)" == 0 ]] || sudo="sudo"
    echo "rest_catalog: installing maven and a Java 17 runtime" >&2
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven openjdk-17-jre-headless >/dev/null
fi

echo "rest_catalog: fetching Iceberg $iceberg_version REST catalog server jars into $lib" >&2
mkdir -p "$cache"
printf '%s\n' "$pom" > "$cache/pom.xml"
rm -rf "$lib"
# Maven's output is kept in a log and shown only on failure: stdout carries just the jar
# directory, for callers to capture.
if ! mvn -q -B -f "$cache/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$lib" -DincludeScope=runtime >"$cache/mvn.log" 2>&1; then
    cat "$cache/mvn.log" >&2
    echo "rest_catalog: mvn failed (log: $cache/mvn.log)" >&2
    exit 1
fi
echo "$want" > "$stamp"
echo "$lib"
