#!/bin/sh
# Unpack GNU wget2 and the libraries a bare Debian lacks from Debian's packages into DEST
# (default bench/.tools/wget2), with a `wget2` wrapper that finds them: nothing is installed
# system-wide. Needs apt's package lists (`apt-get update`). Exits 0 without wget2 when the
# packages cannot be had, so the benchmark runs and reports wget2 as left out.
set -eu
dest=${1:-bench/.tools/wget2}
rm -rf "$dest"
mkdir -p "$dest/debs"
if ! (cd "$dest/debs" && apt-get download -q wget2 libwget0 libgpgme11 >/dev/null 2>&1); then
    echo "wget2: could not download Debian's wget2 packages (run apt-get update first?);" \
        "the benchmark will leave wget2 out" >&2
    rm -rf "$dest"
    exit 0
fi
for deb in "$dest"/debs/*.deb; do
    dpkg-deb -x "$deb" "$dest/root"
done
# Every folder of the unpacked tree that holds a shared library, relative to the wrapper.
libs=$(cd "$dest" && find root -name '*.so*' -exec dirname {} \; | sort -u |
    sed 's|^|$here/|' | paste -sd: -)
cat >"$dest/wget2" <<WRAPPER
#!/bin/sh
here=\$(cd "\$(dirname "\$0")" && pwd)
LD_LIBRARY_PATH="$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$here/root/usr/bin/wget2" "\$@"
WRAPPER
chmod +x "$dest/wget2"
"$dest/wget2" --version | head -n 1
