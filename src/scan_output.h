/* scan_output.h */
