#!/bin/sh
# PostgreSQL's archive_command for the registry (deploy/BACKUP.md):
#
#   archive_command = '/usr/local/lib/erap/archive-wal.sh %p %f /var/lib/postgresql/wal-archive'
#
# Exit 0 only once the WAL segment is durably in the archive: PostgreSQL then recycles its own
# copy, so a segment acknowledged before it reached the disk would be a hole in every restore
# after it. Copied under a temporary name, fsynced, renamed, and the folder fsynced for the
# rename (coreutils' `sync FILE` is fsync(2) on that file or folder). A segment already in the
# archive with the same bytes is success (PostgreSQL retries a segment whose success it did not
# see); with other bytes it is refused, never overwritten.
set -eu
if [ "$#" -ne 3 ]; then
    echo "usage: archive-wal.sh %p %f ARCHIVE_FOLDER" >&2
    exit 2
fi
source_path=$1
name=$2
archive=$3
target="$archive/$name"
if [ -e "$target" ]; then
    if cmp -s "$source_path" "$target"; then
        exit 0
    fi
    echo "archive-wal: $target is already archived with other content; not overwritten" >&2
    exit 1
fi
partial="$archive/.$name.partial"
cp "$source_path" "$partial"
sync "$partial"
mv "$partial" "$target"
sync "$archive"
