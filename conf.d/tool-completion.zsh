#compdef @TOOL@
# SPDX-License-Identifier: Apache-2.0
# zsh completion for @TOOL@: the bash functions of `@TOOL@ completion zsh`,
# through bashcompinit.
eval "$(@PATH@ completion zsh 2>/dev/null)"
_@VAR@_complete "$@"
