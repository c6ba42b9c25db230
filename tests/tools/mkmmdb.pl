#!/usr/bin/perl
# mkmmdb.pl: builds a small MaxMind DB file from a text description, so the
# geo tests carry their own fixtures instead of downloaded databases.
#
#   perl mkmmdb.pl [-e EPOCH] [-t DATABASE_TYPE] [-4] [--wrong-types] \
#       -o OUT.mmdb [DESCRIPTION]
#
# The description (a file, or standard input) has one network a line:
#
#   country 203.0.113.0/24 CN        country and registered_country
#   registered 192.0.2.0/24 JP       registered_country only
#   asn 198.51.100.0/24 4134 "CHINANET-BACKBONE"
#   asn 192.0.2.0/25 64500           a number without an organisation
#
# with '#' comments. Country lines make a Country database (database_type
# "GeoLite2-Country"), asn lines an ASN database ("GeoLite2-ASN"); -t names
# another type, -e sets the build time (seconds since 1970). The tree is
# IPv6 with IPv4 aliased as MaxMind's own databases are, or IPv4 only with
# -4. --wrong-types stores every field under a type readers do not expect
# (codes as numbers, numbers as strings), to test how they cope.
#
# Needs MaxMind::DB::Writer (Debian: libmaxmind-db-writer-perl).
use strict;
use warnings;

use Getopt::Long qw(GetOptions);
use MaxMind::DB::Writer::Tree;

my ($out, $epoch, $type, $ipv4_only, $wrong_types);
GetOptions(
    'o=s'         => \$out,
    'e=i'         => \$epoch,
    't=s'         => \$type,
    '4'           => \$ipv4_only,
    'wrong-types' => \$wrong_types,
) && defined $out
    or die "usage: mkmmdb.pl [-e EPOCH] [-t TYPE] [-4] [--wrong-types]"
    . " -o OUT [DESCRIPTION]\n";

my %types = (
    country                        => 'map',
    registered_country             => 'map',
    iso_code                       => 'utf8_string',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);
if ($wrong_types) {
    $types{iso_code}                       = 'uint32';
    $types{autonomous_system_number}       = 'utf8_string';
    $types{autonomous_system_organization} = 'uint32';
}

my $name = @ARGV ? $ARGV[0] : '-';
my $in;
if (@ARGV) {
    open $in, '<:encoding(UTF-8)', $name or die "mkmmdb.pl: $name: $!\n";
}
else {
    $in = \*STDIN;
    binmode $in, ':encoding(UTF-8)';
}

my ( $kind, @records );
while ( my $line = <$in> ) {
    $line =~ s/#.*//;
    next if $line =~ /^\s*$/;
    my ( $what, $net, $rest ) = $line =~ /^\s*(\S+)\s+(\S+)\s*(.*?)\s*$/
        or die "$name:$.: cannot read this line\n";
    my ( $record, $line_kind );
    if ( $what eq 'country' || $what eq 'registered' ) {
        $rest =~ /^([A-Z]{2})$/
            or die "$name:$.: expected a two-letter country code\n";
        my $cc = $wrong_types ? ord($1) : $1;
        $record = { registered_country => { iso_code => $cc } };
        $record->{country} = { iso_code => $cc } if $what eq 'country';
        $line_kind = 'country';
    }
    elsif ( $what eq 'asn' ) {
        my ( $number, $org ) = $rest =~ /^(\d+)(?:\s+"([^"]*)")?$/
            or die "$name:$.: expected a number and a quoted name\n";
        $record = { autonomous_system_number =>
                $wrong_types ? "AS$number" : $number };
        if ( defined $org ) {
            $record->{autonomous_system_organization}
                = $wrong_types ? length($org) : $org;
        }
        $line_kind = 'asn';
    }
    else {
        die "$name:$.: unknown kind of line \"$what\"\n";
    }
    $kind //= $line_kind;
    $kind eq $line_kind
        or die "$name:$.: a database holds either country or asn lines\n";
    push @records, [ $net, $record ];
}
defined $kind or die "mkmmdb.pl: the description has no networks\n";

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version  => $ipv4_only ? 4 : 6,
    record_size => 28,
    database_type => $type
        // ( $kind eq 'country' ? 'GeoLite2-Country' : 'GeoLite2-ASN' ),
    languages   => ['en'],
    description => { en => 'hushd test database' },
    alias_ipv6_to_ipv4       => $ipv4_only ? 0 : 1,
    remove_reserved_networks => 0,
    map_key_type_callback    => sub { $types{ $_[0] } },
);
$tree->_set_build_epoch($epoch) if defined $epoch;
$tree->insert_network(@$_) for @records;

open my $fh, '>:raw', $out or die "mkmmdb.pl: $out: $!\n";
$tree->write_tree($fh);
close $fh or die "mkmmdb.pl: $out: $!\n";
