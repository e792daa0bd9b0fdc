/* Prints the files of the web root that meerkat_pack() packed into this program. */
#include "mongoose.h"

int main(void) {
  const char *names[] = {"/web/index.html", "/web/css/style.css.gz", "/web/css/style.css"};
  size_t i;
  mg_mem_files = mg_packed_files;
  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    struct mg_str s = mg_unpacked(names[i]);
    printf("%s %lu\n", names[i], (unsigned long) s.len);
  }
  return 0;
}
