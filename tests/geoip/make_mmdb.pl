#!/usr/bin/perl
# make_mmdb.pl - write the small MaxMind DB files the GeoIP tests read, with
# Debian's libmaxmind-db-writer-perl.
#
#   make_mmdb.pl OUTDIR          the test databases (below)
#   make_mmdb.pl --big N OUTDIR  country-big.mmdb and asn-big.mmdb with N
#                                networks each, for bench/rules
#
# Loopback and private ranges are placed in chosen countries and networks,
# so that test clients on 127.x addresses can be anywhere:
#
#   address            country.mmdb  country-v2.mmdb  asn.mmdb
#   127.0.0.1          (none)        (none)           (none)
#   127.0.0.2          XX            DE               64500
#   127.0.0.3          DE            XX               64501
#   127.0.0.4          (none)        (none)           (none)
#   127.0.0.5          (no country: continent only)   (none)
#   127.0.1.0/24       US            US               (none)
#   10.0.0.0/8         DE            DE               3320
#   192.168.0.0/16     FR            FR               4200000000
#   ::1                JP            JP               64502
#   2001:db8::/32      NL            NL               64496
#   fd00::/8           SE            SE               (none)
#
# The others are wrong on purpose (see each below).  Every database is an
# IPv6 tree with IPv4 under ::/96 and ::ffff:0:0/96, as MaxMind's are,
# except country-v4.mmdb.
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

my %types = (
    country                        => 'map',
    registered_country             => 'map',
    continent                      => 'map',
    city                           => 'map',
    names                          => 'map',
    en                             => 'utf8_string',
    iso_code                       => 'utf8_string',
    code                           => 'utf8_string',
    geoname_id                     => 'uint32',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

sub tree {
    my ( $type, %opt ) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version               => $opt{ip_version} // 6,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "wrapd test: $type" },
        map_key_type_callback    => $opt{types} // sub { $types{ $_[0] } },
        remove_reserved_networks => 0,
        alias_ipv6_to_ipv4       => ( $opt{ip_version} // 6 ) == 6 ? 1 : 0,
    );
}

sub country {
    my ($code) = @_;
    return {
        continent => { code => 'EU' },
        country   => { iso_code => $code, names => { en => "Land $code" } },
    };
}

sub asn {
    my ($n) = @_;
    return {
        autonomous_system_number       => $n,
        autonomous_system_organization => "Test Net $n",
    };
}

sub write_db {
    my ( $tree, $path ) = @_;
    open my $fh, '>:raw', $path or die "$path: $!";
    $tree->write_tree($fh);
    close $fh or die "$path: $!";
}

sub countries {
    my ( $path, $swap, $type ) = @_;
    my $t = tree( $type // 'GeoLite2-Country' );
    $t->insert_network( '127.0.0.2/32', country( $swap ? 'DE' : 'XX' ) );
    $t->insert_network( '127.0.0.3/32', country( $swap ? 'XX' : 'DE' ) );
    $t->insert_network( '127.0.0.5/32', { continent => { code => 'EU' } } );
    $t->insert_network( '127.0.1.0/24',   country('US') );
    $t->insert_network( '10.0.0.0/8',     country('DE') );
    $t->insert_network( '192.168.0.0/16', country('FR') );
    $t->insert_network( '::1/128',        country('JP') );
    $t->insert_network( '2001:db8::/32',  country('NL') );
    $t->insert_network( 'fd00::/8',       country('SE') );
    write_db( $t, $path );
}

sub asns {
    my ( $path, $type ) = @_;
    my $t = tree( $type // 'GeoLite2-ASN' );
    $t->insert_network( '127.0.0.2/32',   asn(64500) );
    $t->insert_network( '127.0.0.3/32',   asn(64501) );
    $t->insert_network( '10.0.0.0/8',     asn(3320) );
    $t->insert_network( '192.168.0.0/16', asn(4200000000) );
    $t->insert_network( '::1/128',        asn(64502) );
    $t->insert_network( '2001:db8::/32',  asn(64496) );
    write_db( $t, $path );
}

# A database whose one record holds the number as another type.
sub asn_typed {
    my ( $path, $type, $value ) = @_;
    my %t = ( %types, autonomous_system_number => $type );
    my $t = tree( 'GeoLite2-ASN', types => sub { $t{ $_[0] } } );
    $t->insert_network( '127.0.0.2/32', { autonomous_system_number => $value } );
    write_db( $t, $path );
}

sub big {
    my ( $n, $dir ) = @_;
    my $c = tree('GeoLite2-Country');
    my $a = tree('GeoLite2-ASN');
    # N /24 networks from 11.0.0.0 on; the test client 11.0.0.1 is in the
    # first, in country AA and AS 100000.
    for my $i ( 0 .. $n - 1 ) {
        my $net = sprintf '%d.%d.%d.0/24', 11 + ( $i >> 16 ), ( $i >> 8 ) & 255,
            $i & 255;
        my $cc = chr( 65 + int( $i / 26 ) % 26 ) . chr( 65 + $i % 26 );
        $c->insert_network( $net, country($cc) );
        $a->insert_network( $net, asn( 100000 + $i ) );
    }
    write_db( $c, "$dir/country-big.mmdb" );
    write_db( $a, "$dir/asn-big.mmdb" );
}

if ( @ARGV == 3 && $ARGV[0] eq '--big' ) {
    big( $ARGV[1], $ARGV[2] );
    exit 0;
}
die "usage: make_mmdb.pl [--big N] OUTDIR\n" unless @ARGV == 1;
my $dir = $ARGV[0];

countries("$dir/country.mmdb");
countries( "$dir/country-v2.mmdb", 1 );
# A City database holds the country too: it serves as one.
countries( "$dir/city.mmdb", 0, 'GeoLite2-City' );
asns("$dir/asn.mmdb");

# IPv4 only: an IPv6 client is in no network of it.
my $v4 = tree( 'GeoLite2-Country', ip_version => 4 );
$v4->insert_network( '127.0.0.2/32', country('XX') );
write_db( $v4, "$dir/country-v4.mmdb" );

# Wrong on purpose.
# A country code that is not two letters.
my $bad = tree('GeoLite2-Country');
$bad->insert_network( '127.0.0.2/32', country('DE') );
$bad->insert_network( '127.0.0.3/32', country('D1') );
write_db( $bad, "$dir/country-badcode.mmdb" );
# Says Country, holds AS numbers.
asns( "$dir/country-asnrecords.mmdb", 'GeoLite2-Country' );
# Says ASN, holds countries.
countries( "$dir/asn-countryrecords.mmdb", 0, 'GeoLite2-ASN' );
# AS numbers that are not 1..4294967295 numbers.
asn_typed( "$dir/asn-huge.mmdb",   'uint64',      5000000000 );
asn_typed( "$dir/asn-string.mmdb", 'utf8_string', '3320' );
