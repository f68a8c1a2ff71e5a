#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Public and private libraries as installed (docs/architecture.md, "Public
# and private libraries"): after `make install DESTDIR=...`, libhsmadmin and
# libhsmadmin-call are in $(libdir) with a soname, a dev symlink and a .pc;
# libhsmadmin-crypto, libhsmadmin-net and libhsmfw are only in $(pkglibdir),
# one unversioned file each, with no dev symlink and no .la; everything
# that links them carries $(pkglibdir) as its run path, so the installed
# hsmadmin and hsmd run without LD_LIBRARY_PATH.
. "$top_srcdir/tests/lib/common.sh"
command -v readelf >/dev/null || skip_all "no readelf"

# A make of its own, not a part of the make check that runs this test.
unset MAKEFLAGS MFLAGS MAKELEVEL
# dir VAR: a configured directory of the build (e.g. pkglibdir).
dir() {
	printf 'print-dir:\n\t@echo $(%s)\n' "$1" |
		make -s --no-print-directory -C "$top_builddir" -f Makefile -f - print-dir
}
prefix=$(dir prefix) libdir=$(dir libdir) pkglibdir=$(dir pkglibdir)
bindir=$(dir bindir) sbindir=$(dir sbindir)
like "$pkglibdir" "^$libdir/hsmadmin\$" "the private directory is \$(libdir)/hsmadmin ($pkglibdir)"

d=$TEST_TMP/dest
RUN_TIMEOUT=900 run make -s --no-print-directory -C "$top_builddir" install DESTDIR="$d"
is "$rc" 0 "make install DESTDIR=... succeeds"
[ "$rc" = 0 ] || { done_testing; exit; }

private="libhsmadmin-crypto libhsmadmin-net libhsmfw"
for l in $private; do
	is "$(cd "$d" && find . -name "$l*" | sed 's|^\.||' | sort | tr '\n' ' ')" "$pkglibdir/$l.so " \
		"$l is one file, in the private directory only"
	ok "... a library, not a symlink" test -f "$d$pkglibdir/$l.so" -a ! -L "$d$pkglibdir/$l.so"
	like "$(readelf -d "$d$pkglibdir/$l.so")" "Library soname: \[$l\.so\]" "... its soname has no version"
done
for l in libhsmadmin libhsmadmin-call; do
	ok "$l is public: a soname in \$(libdir)" test -f "$d$libdir/$l.so.0"
	ok "... and a dev symlink" test -L "$d$libdir/$l.so"
done
ok "libhsmadmin has its pkg-config file" test -f "$d$libdir/pkgconfig/hsmadmin-plugin.pc"
is "$(cd "$d" && find . -name '*.la' | grep -E '/lib(hsmadmin-(crypto|net)|hsmfw)\.la$')" "" \
	"no .la for a private library"
ok "no header of a private library is installed" \
	sh -c "! find '$d' -name '*.h' | grep -E '/(sign|transport|tenant|vcmrules|procstat)\.h$'"

# Every installed ELF that links a private library finds it by its run path.
missing=
for f in $(find "$d" -type f \( -perm -u+x -o -name '*.so*' \)); do
	head -c 4 "$f" | grep -q ELF || continue
	dyn=$(readelf -d "$f")
	printf '%s\n' "$dyn" | grep -Eq 'NEEDED.*\[(libhsmadmin-(crypto|net)|libhsmfw)\.so\]' || continue
	rp=$(printf '%s\n' "$dyn" | sed -n 's/.*Library r[a-z]*path: \[\(.*\)\]/\1/p')
	case ":$rp:" in *":$pkglibdir:"*) ;; *) missing="$missing ${f#"$d"}" ;; esac
done
is "$missing" "" "every installed file that links a private library has \$(pkglibdir) as run path"
like "$(readelf -d "$d$sbindir/hsmd")" 'NEEDED.*\[libhsmfw\.so\]' "... hsmd among them (libhsmfw)"

# Run the installed binaries where they were installed for: a private mount
# namespace puts DESTDIR's $(prefix) at $(prefix) and a linker cache made
# for it (ldconfig, as a package's postinst does) at /etc/ld.so.cache.
# LD_LIBRARY_PATH is unset: the private libraries come from the run path.
cat >"$TEST_TMP/in-place" <<'EOF'
#!/bin/sh
# in-place DESTDIR PREFIX LIBDIR CACHE CMD...: CMD with DESTDIR at PREFIX
exec unshare -m --propagation private sh -c '
	d=$1 prefix=$2 libdir=$3 cache=$4; shift 4
	mount --bind "$d$prefix" "$prefix" && ldconfig -X -C "$cache" "$libdir" &&
		mount --bind "$cache" /etc/ld.so.cache && exec env -u LD_LIBRARY_PATH "$@"' sh "$@"
EOF
in_place="sh $TEST_TMP/in-place $d $prefix $libdir $TEST_TMP/ld.so.cache"
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	skip 6 "mounting needs root and unshare"
elif [ "$prefix" = / ] || [ "$prefix" = /usr ] || [ ! -d "$prefix" ]; then
	skip 6 "prefix $prefix cannot be mounted over"
else
	run $in_place "$bindir/hsmadmin" --version
	is "$rc" 0 "the installed hsmadmin --version runs without LD_LIBRARY_PATH"
	run $in_place "$sbindir/hsmd" --version
	is "$rc" 0 "the installed hsmd --version runs without LD_LIBRARY_PATH"
	like "$out" '^hsmd ' "... and says it is hsmd"
	run $in_place "$bindir/hsm-vendor" --help
	is "$rc" 0 "the installed hsm-vendor (libhsmadmin-crypto) runs"
	# Where the loader found them: in $(pkglibdir), through hsmd's run path
	# (without it, the search would go to the cache and fail).
	run env LD_DEBUG=libs $in_place "$sbindir/hsmd" --version
	like "$err" "trying file=$pkglibdir/libhsmfw\.so" "hsmd loads libhsmfw from \$(pkglibdir)"
	like "$err" "search path=$pkglibdir[[:space:]]+\(RUNPATH from file $sbindir/hsmd\)" "... by its run path"
fi
done_testing
