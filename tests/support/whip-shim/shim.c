/*
 * Test support for Debian's simple-whip-client (`whip-client`), preloaded into it by
 * tests/support/whip-client.mjs. Not part of the product.
 *
 * 1. Debian builds whip-client against libsoup 2, while GStreamer's webrtc plugin reaches
 *    libsoup 3 through libnice's UPnP helper (libgupnp-igd); libsoup aborts a process that
 *    loads both. This library stands in for libgupnp-igd-1.0.so.4 and offers no UPnP helper,
 *    which libnice accepts.
 * 2. libnice leaves loopback addresses out of its host candidates, and the tests' peers listen
 *    on 127.0.0.1 only: the local addresses it gathers on are 127.0.0.1 alone.
 */
#include <stddef.h>

typedef unsigned long GType;

GType gupnp_simple_igd_get_type(void) { return 0; }
void *gupnp_simple_igd_thread_new(void) { return NULL; }
void gupnp_simple_igd_add_port(void *self, const char *protocol, unsigned int external_port,
                               const char *local_ip, unsigned int local_port,
                               unsigned int lease_duration, const char *description) {
  (void)self; (void)protocol; (void)external_port; (void)local_ip; (void)local_port;
  (void)lease_duration; (void)description;
}
void gupnp_simple_igd_remove_port_local(void *self, const char *protocol, const char *local_ip,
                                        unsigned short local_port) {
  (void)self; (void)protocol; (void)local_ip; (void)local_port;
}

/* GLib's, resolved in the process that loads this. */
void *g_list_append(void *list, void *data);
char *g_strdup(const char *text);

void *nice_interfaces_get_local_ips(int include_loopback) {
  (void)include_loopback;
  return g_list_append(NULL, g_strdup("127.0.0.1"));
}
