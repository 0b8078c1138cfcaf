#include <cstdio>
int main() { std::fputs("usage: tinylm train|generate|eval\n", stderr); return 2; }
