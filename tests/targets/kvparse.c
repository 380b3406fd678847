/* kvparse.c: the demo program (`make demo`) — a small key=value configuration parser with a
 * bug and an unchecked allocation, as real programs have.
 *
 *   kv_parse_line(line, len)  splits "key=value" and stores it; returns the value's length,
 *                             or -1 for a line that is not key=value
 *   parse_port(value)         the bug: no range check, "port=99999" gives 99999
 *   kv_strdup(s)              copies a string with malloc; its callers never check for NULL
 *
 * Usage: kvparse [FILE] (default: a built-in configuration). Prints every stored entry and
 * the port it will listen on:
 *   stored name="demo"
 *   ...
 *   listening on port 99999 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooked.h"

struct entry {
  char *key;
  char *value;
};

static struct entry entries[64];
static int entry_count;

HOOKED char *kv_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *copy = malloc(n);
  memcpy(copy, s, n); /* unchecked: a NULL from malloc crashes here */
  return copy;
}

HOOKED int parse_port(const char *value) { return atoi(value); /* no range check */ }

HOOKED long kv_parse_line(const char *line, unsigned long len) {
  const char *eq = memchr(line, '=', len);
  if (eq == NULL || eq == line || entry_count == 64)
    return -1;
  char key[128], value[256];
  size_t key_len = (size_t)(eq - line), value_len = len - key_len - 1;
  if (key_len >= sizeof key || value_len >= sizeof value)
    return -1;
  memcpy(key, line, key_len);
  key[key_len] = '\0';
  memcpy(value, eq + 1, value_len);
  value[value_len] = '\0';
  entries[entry_count].key = kv_strdup(key);
  entries[entry_count].value = kv_strdup(value);
  printf("stored %s=\"%s\"\n", entries[entry_count].key, entries[entry_count].value);
  ++entry_count;
  return (long)value_len;
}

static const char builtin[] =
    "name=demo\n"
    "# a comment\n"
    "workers=4\n"
    "port=99999\n"
    "greeting=hello\n";

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *text = builtin;
  char buffer[4096];
  if (argc > 1) {
    FILE *f = fopen(argv[1], "r");
    if (!f) {
      perror(argv[1]);
      return 2;
    }
    size_t n = fread(buffer, 1, sizeof buffer - 1, f);
    buffer[n] = '\0';
    fclose(f);
    text = buffer;
  }
  for (const char *line = text; *line;) {
    const char *end = strchr(line, '\n');
    unsigned long len = end ? (unsigned long)(end - line) : strlen(line);
    if (len > 0 && line[0] != '#' && kv_parse_line(line, len) < 0)
      printf("ignored line: %.*s\n", (int)len, line);
    line += len + (end != NULL);
  }
  for (int i = 0; i < entry_count; ++i)
    if (strcmp(entries[i].key, "port") == 0)
      printf("listening on port %d\n", parse_port(entries[i].value));
  return 0;
}
