# Sourced by the scripts that fetch from Debian (not run on its own): a temporary apt set-up.
#
#   temporary_apt DIR TYPE SUITE    TYPE: deb or deb-src
#   apt-get "${APT_OPTS[@]}" update; apt-get "${APT_OPTS[@]}" source|download ...
#
# The entry, the package lists and apt's cache all live under DIR (never in /etc/apt or
# /var/lib/apt), so the machine's own apt set-up is left exactly as it was; remove DIR after.
# Unprivileged apt fetches as the calling user, who owns DIR.

temporary_apt() {
    local dir="$1" type="$2" suite="$3"
    mkdir -p "$dir/sources.list.d" "$dir/lists/partial" "$dir/cache/archives/partial"
    cat >"$dir/sources.list.d/gilwise-$suite-$type.sources" <<SOURCES
Types: $type
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Architectures: $(dpkg --print-architecture)
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$dir/sources.list.d"
              -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
              -o "APT::Sandbox::User=$(id -un)")
}
