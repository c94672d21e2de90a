/* Bad architectures are refused with a message naming the layer and field, never a crash. */
#include "net.h"

#include <stdio.h>
#include <string.h>

static int expect(const char *json, const char *needle)
{
    char err[512] = "";
    lo_net_config cfg = {.batch = 2, .threads = 1, .training = 1};
    lo_net *net = lo_net_create(json, &cfg, err, sizeof err);
    if (net) { printf("FAIL accepted: %s\n", json); lo_net_free(net); return 1; }
    if (!strstr(err, needle)) { printf("FAIL message \"%s\" lacks \"%s\"\n", err, needle); return 1; }
    printf("ok   %s\n", err);
    return 0;
}

#define IN "\"input\":{\"size\":16,\"channels\":3},"
int main(void)
{
    int f = 0;
    f += expect("{", "invalid JSON");
    f += expect("[]", "top level");
    f += expect("{" IN "\"layers\":[]}", "\"layers\"");
    f += expect("{" IN "\"layers\":[{\"name\":\"c1\",\"type\":\"convv\",\"out\":4}]}", "unknown type \"convv\"");
    f += expect("{" IN "\"layers\":[{\"name\":\"c1\",\"type\":\"conv\"}]}", "layer \"c1\": \"out\"");
    f += expect("{" IN "\"layers\":[{\"name\":\"c1\",\"type\":\"conv\",\"out\":4,\"kernel\":2.5}]}", "\"kernel\" must be an integer");
    f += expect("{" IN "\"layers\":[{\"name\":\"c1\",\"type\":\"conv\",\"out\":4,\"kernel\":33}]}", "\"kernel\" must be 1..15");
    f += expect("{" IN "\"layers\":[{\"name\":\"c1\",\"type\":\"conv\",\"out\":4,\"dilation\":2}]}", "\"dilation\"");
    f += expect("{" IN "\"layers\":[{\"name\":\"c1\",\"type\":\"conv\",\"out\":4,\"input\":\"nope\"}]}", "input \"nope\" is not an earlier layer");
    f += expect("{" IN "\"layers\":[{\"name\":\"a\",\"type\":\"relu\"},{\"name\":\"a\",\"type\":\"relu\"}]}", "duplicate layer name \"a\"");
    f += expect("{" IN "\"layers\":[{\"name\":\"c\",\"type\":\"conv\",\"out\":4,\"stride\":4},"
                "{\"name\":\"p\",\"type\":\"maxpool\",\"kernel\":9}]}", "layer \"p\": kernel 9 does not fit its 4x4 input");
    f += expect("{" IN "\"layers\":[{\"name\":\"c\",\"type\":\"conv\",\"out\":4,\"stride\":2},"
                "{\"name\":\"s\",\"type\":\"add\",\"input\":[\"c\",\"input\"]}]}", "layer \"s\": input \"input\"");
    f += expect("{" IN "\"layers\":[{\"name\":\"l\",\"type\":\"leaky_relu\",\"slope\":-1}]}", "\"slope\"");
    f += expect("{" IN "\"layers\":[{\"name\":\"g\",\"type\":\"gtopk\",\"k\":2,\"fraction\":0.5}]}", "not both");
    f += expect("{" IN "\"layers\":[{\"name\":\"u\",\"type\":\"upsample\",\"mode\":\"cubic\"}]}", "\"mode\"");
    f += expect("{" IN "\"layers\":[{\"name\":\"r\",\"type\":\"relu\"}],\"outputs\":[\"zz\"]}", "output \"zz\"");
    f += expect("{\"input\":{\"size\":0},\"layers\":[{\"type\":\"relu\"}]}", "input shape");
    f += expect("{" IN "\"head\":\"detector\",\"layers\":[{\"type\":\"relu\"}]}", "\"head\"");
    return f ? 1 : 0;
}
