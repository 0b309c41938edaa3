#!/usr/bin/env bash
# Fetches a standalone Hive metastore (HMS) server from Maven Central and prints its directory:
#   lib/            the server's class path (main class org.apache.hadoop.hive.metastore.HiveMetaStore)
#   java            the JDK 17 it runs on (a symlink)
#   derby-template/ an embedded Derby database holding the metastore's transaction tables, to copy
# support/hms.py starts servers from it. No Docker and no apache.org download: Maven Central only.
# Idempotent: a stamp holding the hash of this script makes a second run a no-op. Everything lives
# outside the clone, in ${ARROW_CACHE_HMS_DIR:-~/.cache/arrow-cache}/hms-<version>.
#
# Hive 3.1.3 rather than 4.x: its one jar (hive-standalone-metastore) holds the whole server and
# runs on JDK 17, and its class path is half of 4.0.1's (which adds Spring, Jetty, datasketches
# and more); 4.1's standalone metastore is not on Maven Central.
set -euo pipefail

hive_version=3.1.3
hadoop_version=3.1.0  # the Hadoop that Hive 3.1.3 is built and tested with
cache="${ARROW_CACHE_HMS_DIR:-$HOME/.cache/arrow-cache}/hms-$hive_version"
lib="$cache/lib"

# The server needs Hadoop's Configuration, FileSystem (for the file:// warehouse) and
# UserGroupInformation, not Hadoop's web servers, Kerberos KDC, ZooKeeper or codecs; nor
# Hive's schema tool console, BoneCP (HikariCP is the default pool), ORC or the
# Hadoop metrics reporter (metrics are off). Excluded, that is 25 MB of 60.
pom="$(cat <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.arrow-cache</groupId>
  <artifactId>hive-metastore-server</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.hive</groupId><artifactId>hive-standalone-metastore</artifactId>
      <version>$hive_version</version>
      <exclusions>
        <exclusion><groupId>org.apache.orc</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.github.joshelser</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.jolbox</groupId><artifactId>bonecp</artifactId></exclusion>
        <exclusion><groupId>sqlline</groupId><artifactId>sqlline</artifactId></exclusion>
        <exclusion><groupId>com.google.protobuf</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.httpcomponents</groupId><artifactId>*</artifactId></exclusion>
      </exclusions>
    </dependency>
    <!-- An optional dependency of the metastore's pom, so it is named here. -->
    <dependency>
      <groupId>org.apache.hadoop</groupId><artifactId>hadoop-common</artifactId>
      <version>$hadoop_version</version>
      <exclusions>
        <exclusion><groupId>org.eclipse.jetty</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.sun.jersey</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>javax.servlet</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>javax.servlet.jsp</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.kerby</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.zookeeper</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.curator</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.apache.avro</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.nimbusds</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>net.minidev</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>com.jcraft</groupId><artifactId>jsch</artifactId></exclusion>
        <exclusion><groupId>org.apache.commons</groupId><artifactId>commons-math3</artifactId></exclusion>
        <exclusion><groupId>commons-net</groupId><artifactId>commons-net</artifactId></exclusion>
        <exclusion><groupId>org.apache.commons</groupId><artifactId>commons-compress</artifactId></exclusion>
        <exclusion><groupId>com.google.code.gson</groupId><artifactId>gson</artifactId></exclusion>
        <exclusion><groupId>com.google.code.findbugs</groupId><artifactId>jsr305</artifactId></exclusion>
        <exclusion><groupId>org.apache.httpcomponents</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>commons-beanutils</groupId><artifactId>*</artifactId></exclusion>
        <!-- Hive logs through log4j2 (with its log4j 1.2 bridge). -->
        <exclusion><groupId>log4j</groupId><artifactId>log4j</artifactId></exclusion>
        <exclusion><groupId>org.slf4j</groupId><artifactId>slf4j-log4j12</artifactId></exclusion>
      </exclusions>
    </dependency>
  </dependencies>
</project>
EOF
)"

# Embedded Derby: DataNucleus creates the metastore's own tables when the server starts
# (datanucleus.schema.autoCreateAll), but not the transaction tables behind lock/check_lock/
# unlock, which pyiceberg's commits call; Hive creates those from its schema scripts (not in any
# jar) or, in its own tests, with TxnDbUtil.prepDb (in the jar). Run that once into a template
# that each server copies. (Setting hive.in.test on the server would run it too, but also makes
# the server reject the lock requests of pyiceberg and other non-Hive clients.)
init_src="$(cat <<'EOF'
import java.sql.DriverManager;
import java.sql.SQLException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hive.metastore.conf.MetastoreConf;
import org.apache.hadoop.hive.metastore.txn.TxnDbUtil;

public class InitTxnTables {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:derby:;databaseName=" + args[0];
    Configuration conf = MetastoreConf.newMetastoreConf();
    MetastoreConf.setVar(conf, MetastoreConf.ConfVars.CONNECT_URL_KEY, url + ";create=true");
    TxnDbUtil.prepDb(conf);
    try {  // a clean shutdown, so that copies of the files open without recovery
      DriverManager.getConnection(url + ";shutdown=true");
    } catch (SQLException e) {
      if (!"08006".equals(e.getSQLState())) throw e;  // 08006: the database was shut down
    }
  }
}
EOF
)"

# One install at a time (run.sh's background prefetch, test sessions).
mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9

want="$(sha256sum "$0" | cut -d' ' -f1)"
stamp="$cache/.stamp"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$cache/java" ]]; then
    echo "$cache"
    exit 0
fi

# Hive 3 runs on Java 8 to 17 (Hadoop 3.1's UserGroupInformation calls Subject.getSubject, which
# Java 23+ no longer supports), and the template step runs a source file, which needs a JDK.
find_jdk() {
    local h
    for h in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
        if [[ -n "$h" && -x "$h/bin/javac" && -f "$h/release" ]] \
                && grep -q '^JAVA_VERSION="17[."]' "$h/release"; then
            echo "$h"
            return 0
        fi
    done
    return 1
}
if ! jdk="$(find_jdk)" || ! command -v mvn >/dev/null; then
    sudo=""; [[ "$(id -u)" == 0 ]] || sudo="sudo"  # root needs no sudo (CI containers often lack it)
    echo "hive_metastore: installing maven and a JDK 17" >&2
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven openjdk-17-jdk-headless >/dev/null
    jdk="$(find_jdk)"
fi

echo "hive_metastore: fetching Hive $hive_version metastore jars into $lib" >&2
mkdir -p "$cache"
printf '%s\n' "$pom" > "$cache/pom.xml"
rm -rf "$lib" "$cache/derby-template"
# Maven's output is kept in a log and shown only on failure: stdout carries just the directory.
if ! mvn -q -B -f "$cache/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$lib" -DincludeScope=runtime >"$cache/mvn.log" 2>&1; then
    cat "$cache/mvn.log" >&2
    echo "hive_metastore: mvn failed (log: $cache/mvn.log)" >&2
    exit 1
fi
ln -sfn "$jdk/bin/java" "$cache/java"

printf '%s\n' "$init_src" > "$cache/InitTxnTables.java"
# (In $cache: Derby writes derby.log into the working directory.)
if ! (cd "$cache" && ./java -cp "$lib/*" InitTxnTables.java "$cache/derby-template" >init.log 2>&1); then
    cat "$cache/init.log" >&2
    echo "hive_metastore: creating the Derby template failed (log: $cache/init.log)" >&2
    exit 1
fi
rm -f "$cache/derby.log"
echo "$want" > "$stamp"
echo "$cache"
