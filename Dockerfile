# tspgw in a container that holds CAP_BPF and CAP_NET_ADMIN, not a
# privileged one:
#
#   docker build -t tspgw .
#   docker run -d --name tspgw --network host \
#       --cap-drop ALL --cap-add BPF --cap-add NET_ADMIN --cap-add PERFMON \
#       --device /dev/net/tun -v /sys/fs/bpf:/sys/fs/bpf \
#       -v /etc/tspgw:/etc/tspgw:ro -v /var/lib/tspgw:/var/lib/tspgw tspgw
#
# --network host: XDP attaches to the host's interfaces. /sys/fs/bpf from
# the host: the pinned maps and links outlive the container, so a restarted
# or upgraded container keeps every tunnel forwarding.

FROM debian:12 AS build
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libxml2-dev \
        libsasl2-dev libyaml-dev libsqlite3-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make BUILD=/out /out/tspgw

FROM debian:12
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        libbpf1 libelf1 zlib1g libxml2 libsasl2-2 libsasl2-modules libsasl2-modules-db \
        sasl2-bin libyaml-0-2 libsqlite3-0 bpftool && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/tspgw /usr/local/sbin/tspgw
COPY config.yaml /etc/tspgw/config.yaml.example
VOLUME ["/var/lib/tspgw"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/sbin/tspgw", "-c", "/etc/tspgw/config.yaml"]
CMD ["run"]
