# backports_line APT_DIR: the one-line apt source for bookworm-backports, made from the mirror,
# options and components that APT_DIR (normally /etc/apt) already uses for bookworm itself, so a
# machine behind its own mirror or proxy gets backports from there too. Reads APT_DIR/sources.list
# and APT_DIR/sources.list.d/*.list (one-line format) and APT_DIR/sources.list.d/*.sources (deb822),
# first match wins; prints nothing and fails when no enabled `deb` entry names the suite bookworm.
backports_line() {
  local apt_dir=$1 file line
  local -a one_line=() deb822=()
  [ -f "$apt_dir/sources.list" ] && one_line+=("$apt_dir/sources.list")
  for file in "$apt_dir"/sources.list.d/*.list; do [ -f "$file" ] && one_line+=("$file"); done
  for file in "$apt_dir"/sources.list.d/*.sources; do [ -f "$file" ] && deb822+=("$file"); done
  if [ ${#one_line[@]} -gt 0 ]; then
    line=$(awk '
      { sub(/#.*/, "") }
      $1 != "deb" { next }
      {
        options = ""; i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) { options = options $i " "; i++ } options = options $i " "; i++ }
        uri = $i; suite = $(i + 1)
        if (suite != "bookworm") next
        components = ""; for (j = i + 2; j <= NF; j++) components = components " " $j
        print "deb " options uri " bookworm-backports" components; exit
      }' "${one_line[@]}")
    [ -n "$line" ] && { echo "$line"; return 0; }
  fi
  if [ ${#deb822[@]} -gt 0 ]; then
    line=$(awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && suites ~ /(^| )bookworm( |$)/ && uris != "" && enabled != "no" && !done) {
          split(uris, u, " "); options = signed != "" ? "[signed-by=" signed "] " : ""
          print "deb " options u[1] " bookworm-backports " components; done = 1
        }
        types = suites = uris = components = signed = enabled = ""
      }
      FNR == 1 && NR > 1 { flush() }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      # A continuation line (an inline Signed-By key) belongs to the field above it.
      /^[ \t]/ { next }
      {
        field = tolower($1); sub(/:$/, "", field); $1 = ""; sub(/^[ \t]+/, ""); value = $0
        if (field == "types") types = value
        else if (field == "uris") uris = value
        else if (field == "suites") suites = value
        else if (field == "components") components = value
        else if (field == "signed-by") signed = value
        else if (field == "enabled") enabled = tolower(value)
      }
      END { flush() }' "${deb822[@]}")
    [ -n "$line" ] && { echo "$line"; return 0; }
  fi
  return 1
}
