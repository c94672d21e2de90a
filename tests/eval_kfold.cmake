# create-model --evaluation-folds (issue 6 item 3's k-fold mode) and the segmentation class map in
# the EvaluationManifest: the fold results in the EvaluationResult and the report (C, fast), the
# option's validation and help (fast), and one real run on a small generated dataset (slow: about
# 45 s of training plus 3 folds of 15 s).
add_executable(test_eval_folds ${CMAKE_CURRENT_SOURCE_DIR}/eval/test_eval_folds.c)
target_link_libraries(test_eval_folds PRIVATE lookout_eval lookout_warnings m)
add_test(NAME eval_folds_files COMMAND test_eval_folds ${CMAKE_CURRENT_BINARY_DIR}/eval_folds_out)

add_executable(eval_kfold_demo_data ${CMAKE_CURRENT_SOURCE_DIR}/eval/kfold_demo_data.c)
target_link_libraries(eval_kfold_demo_data PRIVATE lookout_dataset lookout_warnings)

add_test(NAME eval_kfold_validate
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/eval/test_kfold.py validate $<TARGET_FILE:lookout>)
set_tests_properties(eval_kfold_validate PROPERTIES TIMEOUT 120)

set(LEV_KFOLD_REPORT ${CMAKE_CURRENT_BINARY_DIR}/eval_kfold_report.html)
add_test(NAME eval_kfold_train
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/eval/test_kfold.py train $<TARGET_FILE:lookout>
                 $<TARGET_FILE:eval_kfold_demo_data> ${LEV_KFOLD_REPORT})
set_tests_properties(eval_kfold_train PROPERTIES LABELS slow TIMEOUT 1200 ENVIRONMENT "OMP_NUM_THREADS=2"
                     FIXTURES_SETUP eval_kfold_report)
# The k-fold report in headless Chromium (skipped, 77, without chromium).
add_test(NAME eval_kfold_report_renders
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/eval/render_report.sh ${LEV_KFOLD_REPORT}
                 ${CMAKE_CURRENT_BINARY_DIR}/eval_kfold_report.png)
set_tests_properties(eval_kfold_report_renders PROPERTIES LABELS slow FIXTURES_REQUIRED eval_kfold_report
                     SKIP_RETURN_CODE 77)
