# SPDX-License-Identifier: Apache-2.0
# Turns the dashboard page into a C header at build time (cmake -P, no xxd needed):
#   cmake -DIN=index.html -DOUT=dashboard_page.h -P embed.cmake
# The page is bytes, not a string literal, so no quoting or line-length rules of C apply to it.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){24})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp"
  "/* Generated from aggregator/web/index.html by aggregator/web/embed.cmake; do not edit. */\n"
  "static const unsigned char dashboard_page[${size} + 1] = {\n${bytes}0x00};\n"
  "#define DASHBOARD_PAGE_LEN ((size_t)${size})\n")
file(RENAME "${OUT}.tmp" "${OUT}")
