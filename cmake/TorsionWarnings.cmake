# Warnings for Torsion's own targets only; consumers are not forced onto them.
function(torsion_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(TORSION_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
